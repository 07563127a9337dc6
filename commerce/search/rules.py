"""Search rules: how text becomes search tokens, and how a query becomes a match expression.

Chinese has no spaces, and PostgreSQL has no Chinese parser here, so text is segmented in Python
and stored pre-segmented (space-separated tokens) for PostgreSQL's 'simple' configuration and
SQLite's FTS5 unicode61 tokenizer alike. A run of Chinese characters gives its jieba words (for
ranking and readability) plus every character and every pair of adjacent characters: a query
word of two or more characters matches when all its pairs are there, so 连衣裙 is found inside
夏季碎花连衣裙 however jieba cut the title. Latin text is case-folded and unaccented; a query's
Latin words match as prefixes ("dres" finds "dress"), so typing finds as it goes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

VIDEO, CREATOR, PRODUCT = "video", "creator", "product"
KINDS = (VIDEO, CREATOR, PRODUCT)

MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 8  # more words narrow nothing a shopper needs and only cost time
MIN_PREFIX_CHARS = 2  # a one-letter Latin prefix would match most of the index

# Han ideographs (with extensions and compatibility forms), kana and hangul: scripts written
# without spaces between words.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ebef"
_RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
_CJK_RUN = re.compile(f"^[{_CJK}]+$")

Segmenter = Callable[[str], Iterable[str]]


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), case-folded, accents removed (café -> cafe)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def runs(text: str) -> list[tuple[str, bool]]:
    """(run, is_cjk) for each run of Chinese-like characters or of letters and digits."""
    return [(m.group(0), m.group(1) is not None) for m in _RUN.finditer(normalise(text))]


def bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_tokens(text: str, segment: Segmenter) -> list[str]:
    """The tokens stored for a text, in order, each once."""
    out: dict[str, None] = {}
    for run, cjk in runs(text):
        if not cjk:
            out[run] = None
            continue
        for token in (*segment(run), *run, *bigrams(run)):
            if _CJK_RUN.match(token):
                out[token] = None
    return list(out)


def document_text(parts: Iterable[str], segment: Segmenter) -> str:
    """The pre-segmented text stored in a search document (tokens joined by spaces)."""
    return " ".join(document_tokens(" ".join(p for p in parts if p), segment))


@dataclass(frozen=True)
class Term:
    """One query word: CJK words need all their characters' pairs; Latin words are prefixes."""

    tokens: tuple[str, ...]  # all required
    prefix: bool = False


def query_terms(q: str) -> list[Term]:
    """The terms a query needs (all of them); an empty list matches nothing."""
    terms: list[Term] = []
    for run, cjk in runs(q):
        if cjk:
            terms.append(Term(tuple(bigrams(run)) if len(run) > 1 else (run,)))
        else:
            terms.append(Term((run,), prefix=len(run) >= MIN_PREFIX_CHARS))
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_QUERY_TERMS]


def tsquery(terms: list[Term]) -> str:
    """PostgreSQL tsquery text ('simple' configuration); tokens are letters and digits only."""
    parts: list[str] = []
    for term in terms:
        parts.extend(f"'{t}'{':*' if term.prefix else ''}" for t in term.tokens)
    return " & ".join(parts)


def fts5_match(terms: list[Term]) -> str:
    """An FTS5 MATCH expression: quoted tokens ANDed, Latin prefixes starred."""
    parts: list[str] = []
    for term in terms:
        parts.extend(f'"{t}"{"*" if term.prefix else ""}' for t in term.tokens)
    return " AND ".join(parts)


# Refusals, as codes the edge translates.
EMPTY, TOO_LONG, NO_WORDS = "empty", "too_long", "no_words"


def query_problem(q: str) -> str | None:
    """Why a query cannot be searched, or None."""
    if not q.strip():
        return EMPTY
    if len(q) > MAX_QUERY_CHARS:
        return TOO_LONG
    if not query_terms(q):
        return NO_WORDS
    return None


# Searching is a read, so its limit is counted in memory per process, per client, per window.
RATE_WINDOW = timedelta(seconds=60)


@dataclass
class Window:
    started: datetime
    count: int


def admit(window: Window | None, now: datetime, limit: int) -> tuple[Window, bool]:
    """Count one request in a fixed window: (the window to keep, whether it is admitted)."""
    if window is None or now - window.started >= RATE_WINDOW or now < window.started:
        window = Window(now, 0)
    if window.count >= limit:
        return window, False
    return Window(window.started, window.count + 1), True


def retry_after(window: Window, now: datetime) -> int:
    return max(1, int((window.started + RATE_WINDOW - now).total_seconds() + 0.999))


# Rank signals: videos carry their For-you score (commerce/videos/rules.py), creators their
# follower count when the document was written, products their age (newest first).
PRODUCT_EPOCH = datetime(2024, 1, 1)


def product_rank(created_at: datetime) -> float:
    return (created_at - PRODUCT_EPOCH).total_seconds() / 86400

"""Pure comment rules: states, who sees and removes what, the posting rate, mention parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

VISIBLE, HELD, DELETED, HIDDEN = "visible", "held", "deleted", "hidden"
STATES = (VISIBLE, HELD, DELETED, HIDDEN)

MAX_LENGTH = 500
MAX_MENTIONS = 10
PAGE_SIZE = 20

# Posting rate per author: a burst, and a slower sustained pace (a flood of one-liners is spam).
BURST_COUNT, BURST_WINDOW = 5, timedelta(seconds=30)
HOURLY_COUNT, HOURLY_WINDOW = 60, timedelta(hours=1)

# "@name": up to the next space or punctuation a name in this product cannot hold.
_MENTION = re.compile(r"@([^\s@,，。.!！?？:：;；()（）\[\]<>\"'`]{1,60})")


@dataclass(frozen=True)
class Viewer:
    """What the rules need to know about whoever looks at or acts on a comment."""

    user_id: int | None
    is_staff: bool = False  # the video's creator, a moderator of their rooms, or an admin


def shown_to(state: str, author_id: int, viewer: Viewer) -> bool:
    """Held comments are seen by their author (as pending) and by staff (to approve) only."""
    if state == HELD:
        return viewer.is_staff or viewer.user_id == author_id
    return True


def text_shown(state: str) -> bool:
    """Deleted and hidden comments keep their place in the thread, without their words."""
    return state in (VISIBLE, HELD)


def may_remove(state: str, author_id: int, viewer: Viewer) -> bool:
    if state in (DELETED, HIDDEN) or viewer.user_id is None:
        return False
    return viewer.is_staff or viewer.user_id == author_id


def counts_for_others(state: str) -> bool:
    """Whether the comment counts in the video's total and its thread's reply count."""
    return state == VISIBLE


def post_wait(recent: Sequence[datetime], now: datetime) -> timedelta | None:
    """How long the author must wait before another comment, given their recent post times."""
    waits: list[timedelta] = []
    for count, window in ((BURST_COUNT, BURST_WINDOW), (HOURLY_COUNT, HOURLY_WINDOW)):
        inside = sorted(t for t in recent if t > now - window)
        if len(inside) >= count:
            # The oldest that still counts must leave the window first.
            waits.append(inside[-count] + window - now)
    return max(waits) if waits else None


def mention_names(text: str) -> list[str]:
    """Names written as @name, in order, each once (case kept; matching ignores case)."""
    seen: dict[str, str] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1)
        seen.setdefault(name.casefold(), name)
    return list(seen.values())[:MAX_MENTIONS]


def segments(text: str, mentioned: Iterable[tuple[int, str]]) -> list[dict[str, object]]:
    """Split text into plain runs and mentions of the given (user id, display name) pairs.

    The longest name wins where one is a prefix of another ("@Ann" and "@Anna").
    """
    names = sorted(((name, uid) for uid, name in mentioned if name), key=lambda p: -len(p[0]))
    out: list[dict[str, object]] = []
    plain: list[str] = []
    i = 0
    folded = text.casefold()
    while i < len(text):
        if text[i] == "@":
            hit = next(
                ((name, uid) for name, uid in names if folded.startswith(name.casefold(), i + 1)),
                None,
            )
            if hit is not None:
                if plain:
                    out.append({"text": "".join(plain)})
                    plain = []
                end = i + 1 + len(hit[0])
                out.append({"text": text[i:end], "user_id": hit[1]})
                i = end
                continue
        plain.append(text[i])
        i += 1
    if plain:
        out.append({"text": "".join(plain)})
    return out

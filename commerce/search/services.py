"""Search use cases: match a query against the documents of one kind, page by rank, and load
what matched (still checking that each is visible)."""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.bans import AccountBan
from commerce.accounts.models import User
from commerce.catalog.models import Product, ProductImage
from commerce.errors import RateLimited, ValidationFailed
from commerce.search import rules
from commerce.search.models import SearchDocument
from commerce.validation import INT32_MAX
from commerce.videos.models import Video

PROBLEMS = {
    rules.EMPTY: _l("Type something to search for."),
    rules.TOO_LONG: _l("Search for at most %(n)s characters.", n=rules.MAX_QUERY_CHARS),
    rules.NO_WORDS: _l("Search with letters, digits or Chinese characters."),
}


def check_query(q: str) -> list[rules.Term]:
    problem = rules.query_problem(q)
    if problem is not None:
        message = str(PROBLEMS[problem])
        raise ValidationFailed(message, fields={"q": message}, code=f"query_{problem}")
    return rules.query_terms(q)


def encode_cursor(rank: float, ident: int) -> str:
    return base64.urlsafe_b64encode(f"{rank!r}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        rank, _sep, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        value, number = float(rank), int(ident)
    except (ValueError, UnicodeDecodeError):
        value, number = math.nan, 0
    if not math.isfinite(value) or not 0 < number <= INT32_MAX:
        message = str(_l("That page cursor is not valid."))
        raise ValidationFailed(message, fields={"cursor": message})
    return value, number


def _matches(session: Session, terms: list[rules.Term]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        tsv: ColumnElement[str] = literal_column("search_documents.tsv")
        return tsv.op("@@")(text("to_tsquery('simple', :tsq)").bindparams(tsq=rules.tsquery(terms)))
    fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :match").bindparams(
        match=rules.fts5_match(terms)
    )
    return SearchDocument.id.in_(fts)


# Fewer matches than this: read them all through the full-text index and sort them. More: walk
# ix_search_documents_rank best first, skipping what does not match, which finds a page within
# about limit x documents / matches rows. PostgreSQL cannot tell which case a query is from
# its statistics (a word it has not sampled is guessed at ~0.25 % of rows), so one capped
# count through the GIN index decides.
FEW_MATCHES = 1000


def _few_matches(session: Session, terms: list[rules.Term], kind: str) -> bool:
    capped = (
        select(SearchDocument.id)
        .where(SearchDocument.kind == kind, _matches(session, terms))
        .limit(FEW_MATCHES)
        .subquery()
    )
    return (session.scalar(select(func.count()).select_from(capped)) or 0) < FEW_MATCHES


def matching_documents(
    session: Session, terms: list[rules.Term], kind: str, *, cursor: str | None, limit: int
) -> tuple[list[tuple[int, int, float]], str | None]:
    """(document id, object id, rank) of one page, best rank first, and the next page's cursor."""
    banned = exists().where(AccountBan.user_id == SearchDocument.owner_id)
    query = select(SearchDocument.id, SearchDocument.ref_id, SearchDocument.rank).where(
        SearchDocument.kind == kind, _matches(session, terms), ~banned
    )
    rank_order: ColumnElement[float] = SearchDocument.rank.expression
    if session.get_bind().dialect.name == "postgresql" and _few_matches(session, terms, kind):
        rank_order = SearchDocument.rank + 0  # the same order, which no index offers: sort
    if cursor:
        rank, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                SearchDocument.rank < rank,
                and_(SearchDocument.rank == rank, SearchDocument.id < ident),
            )
        )
    rows = session.execute(
        query.order_by(rank_order.desc(), SearchDocument.id.desc()).limit(limit + 1)
    ).all()
    hits = [(r.id, r.ref_id, r.rank) for r in rows[:limit]]
    next_cursor = encode_cursor(hits[-1][2], hits[-1][0]) if len(rows) > limit else None
    return hits, next_cursor


def _in_order(objects: Sequence[object], ids: list[int]) -> list:
    by_id = {o.id: o for o in objects}  # type: ignore[attr-defined]
    return [by_id[i] for i in ids if i in by_id]


def load_results(session: Session, kind: str, ids: list[int]) -> list:
    """The matched objects in rank order; anything no longer visible is left out."""
    if not ids:
        return []
    if kind == rules.VIDEO:
        rows: Sequence[object] = session.scalars(
            select(Video)
            .options(selectinload(Video.creator), selectinload(Video.poster))
            .where(Video.id.in_(ids), Video.published_at.is_not(None))
        ).all()
    elif kind == rules.PRODUCT:
        rows = session.scalars(
            select(Product)
            .options(
                selectinload(Product.images).selectinload(ProductImage.object),
                selectinload(Product.merchant),
            )
            .where(Product.id.in_(ids), Product.is_active.is_(True))
        ).all()
    else:
        rows = session.scalars(
            select(User)
            .options(selectinload(User.avatar))
            .where(User.id.in_(ids), User.is_creator.is_(True))
        ).all()
    return _in_order(rows, ids)


def search(
    session: Session, q: str, kind: str, *, cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """One page of the objects of `kind` matching every word of q, and the next page's cursor."""
    terms = check_query(q)
    hits, next_cursor = matching_documents(session, terms, kind, cursor=cursor, limit=limit)
    return load_results(session, kind, [ref for _doc, ref, _rank in hits]), next_cursor


class RateLimiter:
    """Searches per client per minute, counted in this process's memory (a read needs no row)."""

    MAX_CLIENTS = 50_000  # past this, windows that have ended are dropped

    def __init__(self) -> None:
        self._windows: dict[str, rules.Window] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: datetime, limit: int) -> None:
        with self._lock:
            if len(self._windows) >= self.MAX_CLIENTS:
                self._forget_ended(now)
            window, admitted = rules.admit(self._windows.get(client), now, limit)
            self._windows[client] = window
        if not admitted:
            raise RateLimited(
                str(_l("Too many searches in a short time. Try again in a minute.")),
                retry_after=rules.retry_after(window, now),
            )

    def _forget_ended(self, now: datetime) -> None:
        for client, window in list(self._windows.items()):
            if now - window.started >= rules.RATE_WINDOW:
                del self._windows[client]
        if len(self._windows) >= self.MAX_CLIENTS:  # all active: start afresh rather than grow
            self._windows.clear()

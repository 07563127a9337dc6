"""Search documents kept current in the transaction that changes their object.

A listener on every session's flush sees which videos, products and accounts were added,
changed in a searched attribute, or deleted, and writes their documents on the same connection,
so a rollback takes the document change back with the object's. Whatever code publishes a video
or edits a product, its document follows; `flask search rebuild` writes all of them afresh.
Only published videos, products on sale and creators have a document; a banned owner's are
filtered out when searching (services.py), so a ban needs no rewrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.search import rules
from commerce.search.models import SearchDocument
from commerce.search.segment import words
from commerce.social.models import Follow
from commerce.timeutil import utcnow
from commerce.videos.models import Video

# The attributes a document is made of (text, visibility, rank): other changes leave it alone.
WATCHED: dict[type, tuple[str, ...]] = {
    Video: ("title", "description", "published_at", "rank_score", "creator_id"),
    Product: ("title", "description", "is_active", "merchant_id"),
    User: ("display_name", "bio", "is_creator"),
}
KIND_OF = {Video: rules.VIDEO, Product: rules.PRODUCT, User: rules.CREATOR}


@dataclass(frozen=True)
class Document:
    kind: str
    ref_id: int
    owner_id: int
    body: str
    rank: float


def video_document(video: Video) -> Document | None:
    if video.published_at is None:
        return None
    body = rules.document_text((video.title, video.description), words)
    return Document(rules.VIDEO, video.id, video.creator_id, body, video.rank_score or 0.0)


def product_document(product: Product) -> Document | None:
    if not product.is_active:
        return None
    body = rules.document_text((product.title, product.description), words)
    rank = rules.product_rank(product.created_at or utcnow())
    return Document(rules.PRODUCT, product.id, product.merchant_id, body, rank)


def creator_document(user: User, followers: int) -> Document | None:
    if not user.is_creator:
        return None
    body = rules.document_text((user.display_name, user.bio), words)
    return Document(rules.CREATOR, user.id, user.id, body, float(followers))


def _followers(connection: Connection, user_id: int) -> int:
    count = select(func.count()).select_from(Follow).where(Follow.followee_id == user_id)
    return connection.execute(count).scalar_one()


def document_of(connection: Connection, obj: Any) -> Document | None:
    if isinstance(obj, Video):
        return video_document(obj)
    if isinstance(obj, Product):
        return product_document(obj)
    return creator_document(obj, _followers(connection, obj.id))


def _upsert(connection: Connection, docs: list[Document], now: datetime) -> None:
    rows = [{**doc.__dict__, "updated_at": now} for doc in docs]
    name = connection.dialect.name
    if name not in ("postgresql", "sqlite"):
        for doc in docs:
            _remove(connection, doc.kind, [doc.ref_id])
        connection.execute(SearchDocument.__table__.insert(), rows)
        return
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    for row in rows:  # one statement per row: an upsert cannot take executemany on every driver
        stmt = dialect_insert(SearchDocument.__table__).values(**row)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=["kind", "ref_id"],
                set_={
                    "owner_id": stmt.excluded.owner_id,
                    "body": stmt.excluded.body,
                    "rank": stmt.excluded.rank,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )


def _remove(connection: Connection, kind: str, ref_ids: Iterable[int]) -> None:
    ids = list(ref_ids)
    if ids:
        connection.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.ref_id.in_(ids)
            )
        )


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _touched(session: Session) -> Iterator[tuple[Any, bool]]:
    """(object, deleted) for each searchable object this flush added, changed or deleted."""
    for obj in session.new:
        if type(obj) in WATCHED:
            yield obj, False
    for obj in session.dirty:
        names = WATCHED.get(type(obj))
        if names and _changed(obj, names):
            yield obj, False
    for obj in session.deleted:
        if type(obj) in WATCHED:
            yield obj, True


def sync(session: Session, connection: Connection) -> None:
    """Write the documents of what this flush touched (after_flush: ids are known)."""
    touched = list(_touched(session))
    if not touched:
        return
    now = utcnow()
    upserts: list[Document] = []
    for obj, deleted in touched:
        doc = None if deleted else document_of(connection, obj)
        if doc is None:
            _remove(connection, KIND_OF[type(obj)], [obj.id])
        else:
            upserts.append(doc)
    if upserts:
        _upsert(connection, upserts, now)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _transaction: UOWTransaction) -> None:
    sync(session, session.connection())


def rebuild(session: Session, batch: int = 1000) -> dict[str, int]:
    """Write every document afresh (an existing database, or after changing the rules)."""
    connection = session.connection()
    connection.execute(delete(SearchDocument))
    now = utcnow()
    counts = {kind: 0 for kind in rules.KINDS}
    pending: list[dict[str, Any]] = []

    def add(doc: Document | None) -> None:
        if doc is None:
            return
        counts[doc.kind] += 1
        pending.append({**doc.__dict__, "updated_at": now})
        if len(pending) >= batch:
            flush_pending()

    def flush_pending() -> None:
        if pending:
            connection.execute(SearchDocument.__table__.insert(), pending)
            pending.clear()

    for video in session.scalars(
        select(Video).where(Video.published_at.is_not(None)).execution_options(yield_per=batch)
    ):
        add(video_document(video))
    for product in session.scalars(
        select(Product).where(Product.is_active.is_(True)).execution_options(yield_per=batch)
    ):
        add(product_document(product))
    followers = dict(
        connection.execute(
            select(Follow.followee_id, func.count()).group_by(Follow.followee_id)
        ).all()
    )
    for user in session.scalars(select(User).where(User.is_creator.is_(True))):
        add(creator_document(user, followers.get(user.id, 0)))
    flush_pending()
    return counts


def is_empty(session: Session) -> bool:
    return session.scalar(select(SearchDocument.id).limit(1)) is None

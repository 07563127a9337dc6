"""Row statements that hold on both engines: locks (PostgreSQL's FOR UPDATE, SQLite's single
writer) and insert-unless-present.

SQLite ignores `SELECT ... FOR UPDATE`, and pysqlite does not even begin a transaction before a
SELECT: two requests can both read a balance, then both spend it. A write statement does begin
one, and SQLite lets one write transaction run at a time (the others wait on busy_timeout), so
on SQLite the lock is a no-op UPDATE of the row: from then until the commit this transaction is
the database's only writer, and what it reads next is current.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import insert, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

T = TypeVar("T")


def lock_row(session: Session, model: type[T], ident: Any) -> T | None:
    """Lock one row (by primary key `id`) until the transaction ends; returns it re-read."""
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        # Raw SQL: an ORM update would also bump columns with onupdate (updated_at).
        session.execute(text(f"UPDATE {table.name} SET id = id WHERE id = :id"), {"id": ident})
        return session.get(model, ident, populate_existing=True)
    return session.scalars(
        select(model)
        .where(table.c.id == ident)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def lock_key(session: Session, model: type[Any], key: str) -> None:
    """Serialise transactions about something that may have no row yet (an e-mail address).

    PostgreSQL: an advisory lock on the key until the transaction ends. SQLite: a no-op write
    to `model`'s table, which makes this transaction the single writer.
    """
    if session.get_bind().dialect.name == "sqlite":
        table = model.__table__.name  # type: ignore[attr-defined]
        session.execute(text(f"UPDATE {table} SET id = id WHERE 0"))
        return
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def insert_ignore(session: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """Insert the row unless one with the same key exists (several processes may race to);
    True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        stmt: Any = pg_insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two engines are supported
        stmt = insert(table).values(values)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
    return session.execute(stmt.returning(literal_column("1"))).first() is not None

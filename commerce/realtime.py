"""Realtime events queued on the database session and sent only after it commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from commerce.extensions import socketio

_KEY = "pending_realtime_events"


def publish(
    session: Session | scoped_session, event_name: str, payload: dict[str, Any], *, room: str
) -> None:
    """Queue an event for room; it is emitted if and when the session's transaction commits."""
    real: Session = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()  # so a rollback before any query still discards the event
    # Tagged with the savepoint it was published in, so rolling that savepoint back drops it alone.
    real.info.setdefault(_KEY, []).append(
        (real.get_nested_transaction(), event_name, payload, room)
    )


def after_commit(session: Session | scoped_session, callback: Callable[[], None]) -> None:
    """Run callback if and when the transaction commits: for senders that batch their events."""
    real: Session = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()
    real.info.setdefault(_KEY, []).append((real.get_nested_transaction(), None, callback, None))


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def _enclosing_savepoint(transaction: SessionTransaction) -> SessionTransaction | None:
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


def _on_commit(session: Session) -> None:
    # SQLAlchemy also calls after_commit when a savepoint is released: that is not the commit.
    released = session.get_nested_transaction()
    if released is not None:
        outer = _enclosing_savepoint(released)
        session.info[_KEY] = [
            (outer if tag is released else tag, *event)
            for tag, *event in session.info.get(_KEY, [])
        ]
        return
    for _tag, event_name, payload, room in session.info.pop(_KEY, []):
        if event_name is None:
            payload()  # an after_commit callback
        else:
            socketio.emit(event_name, payload, to=room)


def _on_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_KEY, None)
        return
    session.info[_KEY] = [event for event in session.info.get(_KEY, []) if event[0] is not previous]


def install(session_class: type[Session] = Session) -> None:
    """Hook commit/rollback of every session (idempotent)."""
    if not event.contains(session_class, "after_commit", _on_commit):
        event.listen(session_class, "after_commit", _on_commit)
        event.listen(session_class, "after_soft_rollback", _on_rollback)

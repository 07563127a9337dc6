"""Realtime events queued on the database session and sent only after it commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from commerce.extensions import socketio

_KEY = "pending_realtime_events"


@dataclass(frozen=True)
class _Pending:
    """Something to send once the transaction commits.

    savepoint: the one it was queued in (None: the outer transaction), so rolling that
    savepoint back drops it alone.
    """

    savepoint: SessionTransaction | None
    send: Callable[[], None]


def publish(
    session: Session | scoped_session, event_name: str, payload: dict[str, Any], *, room: str
) -> None:
    """Queue an event for room; it is emitted if and when the session's transaction commits."""
    after_commit(session, lambda: socketio.emit(event_name, payload, to=room))


def after_commit(session: Session | scoped_session, callback: Callable[[], None]) -> None:
    """Run callback if and when the transaction commits: for senders that batch their events."""
    real: Session = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()  # so a rollback before any query still discards the event
    real.info.setdefault(_KEY, []).append(_Pending(real.get_nested_transaction(), callback))


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
            _Pending(outer, pending.send) if pending.savepoint is released else pending
            for pending in session.info.get(_KEY, [])
        ]
        return
    for pending in session.info.pop(_KEY, []):
        pending.send()


def _on_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_KEY, None)
        return
    session.info[_KEY] = [
        pending for pending in session.info.get(_KEY, []) if pending.savepoint is not previous
    ]


def install(session_class: type[Session] = Session) -> None:
    """Hook commit/rollback of every session (idempotent)."""
    if not event.contains(session_class, "after_commit", _on_commit):
        event.listen(session_class, "after_commit", _on_commit)
        event.listen(session_class, "after_soft_rollback", _on_rollback)

"""Realtime events queued on the database session and sent only after it commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from commerce.extensions import socketio

_KEY = "pending_realtime_events"


def publish(
    session: Session | scoped_session, event_name: str, payload: dict[str, Any], *, room: str
) -> None:
    """Queue an event for room; it is emitted if and when the session's transaction commits."""
    real: Session = session() if isinstance(session, scoped_session) else session
    if not real.in_transaction():
        real.begin()  # so a rollback before any query still discards the event
    real.info.setdefault(_KEY, []).append((event_name, payload, room))


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def _emit_pending(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    for event_name, payload, room in pending:
        socketio.emit(event_name, payload, to=room)


def _drop_pending(session: Session) -> None:
    session.info.pop(_KEY, None)


def install(session_class: type[Session] = Session) -> None:
    """Hook commit/rollback of every session (idempotent)."""
    if not event.contains(session_class, "after_commit", _emit_pending):
        event.listen(session_class, "after_commit", _emit_pending)
        event.listen(session_class, "after_soft_rollback", lambda s, _t: _drop_pending(s))

"""Read-only queries shared by the live use cases, presenters and the fan-out task."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.live.models import LiveChatMessage, LiveModerator, LivePin, LiveRoom

CHAT_BACKLOG = 50


def moderator_ids(session: Session, room: LiveRoom) -> set[int]:
    return set(
        session.scalars(select(LiveModerator.user_id).where(LiveModerator.room_id == room.id))
    )


def open_pins(session: Session, room: LiveRoom) -> list[LivePin]:
    return list(
        session.scalars(
            select(LivePin)
            .where(LivePin.room_id == room.id, LivePin.unpinned_at.is_(None))
            .order_by(LivePin.pinned_at, LivePin.id)
        )
    )


def pin_history(session: Session, room: LiveRoom) -> list[LivePin]:
    return list(
        session.scalars(
            select(LivePin)
            .where(LivePin.room_id == room.id)
            .order_by(LivePin.pinned_at, LivePin.id)
        )
    )


def recent_chat(
    session: Session, room: LiveRoom, limit: int = CHAT_BACKLOG, before_id: int | None = None
) -> list[LiveChatMessage]:
    """The newest messages still shown, oldest first (the order a chat pane draws them)."""
    query = select(LiveChatMessage).where(
        LiveChatMessage.room_id == room.id, LiveChatMessage.deleted_at.is_(None)
    )
    if before_id is not None:
        query = query.where(LiveChatMessage.id < before_id)
    rows = list(session.scalars(query.order_by(LiveChatMessage.id.desc()).limit(limit)))
    return rows[::-1]

"""预约 "Remind me": a viewer asks to be told when a scheduled room starts; at go-live the
reminded users and the creator's followers are told once each (followers rate-limited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.errors import Conflict
from commerce.live import rules
from commerce.live.models import LiveReminder, LiveRoom
from commerce.locking import insert_ignore
from commerce.notifications import rules as notify_rules
from commerce.notifications import services as notify
from commerce.notifications.fanout import audience_source

AUDIENCE = "live.reminders"


@audience_source(AUDIENCE)
def reminded_users(room_id: int) -> Select[Any]:
    return select(LiveReminder.user_id.label("uid")).where(LiveReminder.room_id == room_id)


def do_remind(session: Session, room: LiveRoom, user: User, now: datetime) -> bool:
    """Ask to be reminded (again: nothing changes). Only a room that has not started."""
    if room.state != rules.SCHEDULED:
        raise Conflict(_l("This room has already started or ended."), code="not_scheduled")
    return insert_ignore(
        session, LiveReminder, {"room_id": room.id, "user_id": user.id, "created_at": now}
    )


def do_forget(session: Session, room: LiveRoom, user: User) -> bool:
    removed = session.execute(
        delete(LiveReminder)
        .where(LiveReminder.room_id == room.id, LiveReminder.user_id == user.id)
        .returning(LiveReminder.user_id)
    )
    return removed.first() is not None


def reminder_count(session: Session, room_id: int) -> int:
    query = select(func.count()).select_from(LiveReminder).where(LiveReminder.room_id == room_id)
    return session.scalar(query) or 0


def is_reminded(session: Session, room_id: int, user: User | None) -> bool:
    if user is None:
        return False
    found = session.scalar(
        select(LiveReminder.user_id).where(
            LiveReminder.room_id == room_id, LiveReminder.user_id == user.id
        )
    )
    return found is not None


def notify_go_live(session: Session, room: LiveRoom, now: datetime) -> int | None:
    """Queue the go-live notice in the transaction that starts the room. Followers are left out
    when they were told of this creator within the window; the reminded never are."""
    notify.lock_actor(session, room.creator_id, notify_rules.LIVE)
    last = notify.last_told_followers(session, room.creator_id, notify_rules.LIVE)
    tell_followers = notify_rules.may_tell_followers(last, now)
    return notify.do_notify(
        session,
        kind=notify_rules.LIVE,
        event_key=f"live:{room.id}",
        now=now,
        actor_id=room.creator_id,
        params={
            "title": room.title,
            "endpoint": "live.room_page",
            "args": {"public_id": room.public_id},
        },
        followers_of=room.creator_id if tell_followers else None,
        source=AUDIENCE,
        source_arg=room.id,
    )

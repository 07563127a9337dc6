"""Chat and moderation use cases: post, delete, mute, ban, room settings, moderators."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commerce.accounts.bans import may_post
from commerce.accounts.models import User
from commerce.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from commerce.live import rules
from commerce.live.broadcast import (
    publish_permissions,
    publish_settings,
    queue_chat,
    queue_chat_deletion,
    queue_kick,
)
from commerce.live.models import LiveBan, LiveChatMessage, LiveModerator, LiveMute, LiveRoom
from commerce.live.present import permissions_out
from commerce.live.queries import moderator_ids
from commerce.live.schemas import SettingsIn
from commerce.live.services import current_mute, permissions_of, role_in


def _check_chat_open(room: LiveRoom) -> None:
    if room.state == rules.ENDED:
        raise Conflict(_("This live has ended: its chat is closed."), code="ended")


def _recent_times(session: Session, room: LiveRoom, author: User, now: datetime) -> list[datetime]:
    horizon = now - rules.RATE_LIMIT_WINDOW
    if room.slow_mode_seconds:
        horizon = min(horizon, now - timedelta(seconds=room.slow_mode_seconds))
    return list(
        session.scalars(
            select(LiveChatMessage.created_at)
            .where(
                LiveChatMessage.room_id == room.id,
                LiveChatMessage.author_id == author.id,
                LiveChatMessage.created_at > horizon,
            )
            .order_by(LiveChatMessage.created_at.desc())
            .limit(rules.RATE_LIMIT_MESSAGES)
        )
    )


def do_post_message(
    session: Session, room: LiveRoom, author: User, text: str, now: datetime
) -> LiveChatMessage:
    """Admit a message (bans, mutes, the keyword filter, slow mode, the rate limit) and queue it."""
    _check_chat_open(room)
    permissions, banned = permissions_of(session, room, author)
    if banned:
        raise Forbidden(_("You have been banned from this room's chat."), code="banned")
    if not may_post(session, author.id):
        raise Forbidden(_("Your account may not post comments."), code="suspended")
    until = current_mute(session, room, author.id, now)
    if until is not None:
        raise Forbidden(
            _("You are muted in this room until %(time)s.", time=format_datetime(until, "short")),
            code="muted",
        )
    role = permissions.role
    if not rules.is_exempt_from_limits(role):
        if rules.blocked_keyword(text, room.keyword_filter):
            raise ValidationFailed(
                _("Your message contains a word this room does not allow."), code="filtered"
            )
        refusal = rules.chat_refusal(
            role, _recent_times(session, room, author, now), now, slow_mode_s=room.slow_mode_seconds
        )
        if refusal is not None and refusal.code == "slow_mode":
            raise RateLimited(
                _(
                    "Slow mode is on: wait %(n)d s before your next message.",
                    n=refusal.retry_after_s,
                ),
                code="slow_mode",
            )
        if refusal is not None:
            raise RateLimited(
                _("You are sending messages too fast: wait %(n)d s.", n=refusal.retry_after_s)
            )
    message = LiveChatMessage(
        room_id=room.id, author_id=author.id, author_role=role, text=text, created_at=now
    )
    message.author = author
    session.add(message)
    session.flush()
    queue_chat(session, room, message)
    return message


def do_delete_message(
    session: Session, room: LiveRoom, actor: User, actor_role: str, message_id: int, now: datetime
) -> LiveChatMessage:
    message = session.get(LiveChatMessage, message_id)
    if message is None or message.room_id != room.id or message.deleted_at is not None:
        raise NotFound(_("This message does not exist."))
    if message.author_role == rules.CREATOR and actor_role != rules.CREATOR:
        raise Forbidden(_("Only the host can delete the host's messages."))
    message.deleted_by_id, message.deleted_at = actor.id, now
    session.flush()
    queue_chat_deletion(session, room, message.id)
    return message


def _target(session: Session, room: LiveRoom, user_id: int) -> User:
    """A user the actor may discipline: staff answer to the host, not to each other."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("This user does not exist."))
    if role_in(session, room, user) != rules.VIEWER:
        raise Forbidden(_("The host and moderators cannot be muted or banned."))
    return user


def _tell(session: Session, room: LiveRoom, user: User, now: datetime) -> None:
    permissions, banned = permissions_of(session, room, user)
    out = permissions_out(
        permissions, muted_until=current_mute(session, room, user.id, now), banned=banned
    )
    publish_permissions(session, room, user.id, out)


def do_mute(
    session: Session, room: LiveRoom, actor: User, user_id: int, seconds: int, now: datetime
) -> LiveMute:
    user = _target(session, room, user_id)
    mute = session.get(LiveMute, (room.id, user.id))
    until = rules.muted_until(now, seconds)
    if mute is None:
        mute = LiveMute(room_id=room.id, user_id=user.id, until=until, by_id=actor.id)
        session.add(mute)
    else:
        mute.until, mute.by_id = until, actor.id
    session.flush()
    _tell(session, room, user, now)
    return mute


def _lift(
    session: Session,
    room: LiveRoom,
    model: type[LiveMute] | type[LiveBan],
    user_id: int,
    now: datetime,
    missing: str,
) -> None:
    """Remove a mute or a ban, and tell the user's open pages what they may do now."""
    record = session.get(model, (room.id, user_id))
    if record is None:
        raise NotFound(missing)
    session.delete(record)
    session.flush()
    user = session.get(User, user_id)
    if user is not None:
        _tell(session, room, user, now)


def do_unmute(session: Session, room: LiveRoom, user_id: int, now: datetime) -> None:
    _lift(session, room, LiveMute, user_id, now, _("This user is not muted."))


def do_ban(session: Session, room: LiveRoom, actor: User, user_id: int, now: datetime) -> LiveBan:
    """Banned users cannot chat or rejoin; their open connections leave the room."""
    user = _target(session, room, user_id)
    ban = session.get(LiveBan, (room.id, user.id))
    if ban is None:
        ban = LiveBan(room_id=room.id, user_id=user.id, by_id=actor.id, created_at=now)
        session.add(ban)
        session.flush()
    _tell(session, room, user, now)
    queue_kick(session, room, user.id)
    return ban


def do_unban(session: Session, room: LiveRoom, user_id: int, now: datetime) -> None:
    _lift(session, room, LiveBan, user_id, now, _("This user is not banned."))


def do_update_settings(session: Session, room: LiveRoom, data: SettingsIn) -> LiveRoom:
    if data.slow_mode_seconds is not None:
        room.slow_mode_seconds = data.slow_mode_seconds
    if data.keyword_filter is not None:
        keywords = rules.normalise_keywords(data.keyword_filter)
        if len(keywords) > rules.MAX_KEYWORDS:
            raise ValidationFailed(_("The keyword filter holds at most 200 words."))
        room.keyword_filter = keywords
    session.flush()
    publish_settings(session, room)
    return room


def list_moderators(session: Session, room: LiveRoom) -> list[User]:
    ids = moderator_ids(session, room)
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def do_appoint_moderator(session: Session, room: LiveRoom, user_id: int, now: datetime) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("This user does not exist."))
    if user.id == room.creator_id:
        raise ValidationFailed(_("The host already has every permission."))
    if session.get(LiveBan, (room.id, user.id)) is not None:
        raise Conflict(_("Lift this user's ban before making them a moderator."), code="banned")
    if session.get(LiveModerator, (room.id, user.id)) is None:
        session.add(LiveModerator(room_id=room.id, user_id=user.id, appointed_at=now))
        session.execute(
            delete(LiveMute).where(LiveMute.room_id == room.id, LiveMute.user_id == user.id)
        )
        session.flush()
    _tell(session, room, user, now)
    return user


def do_remove_moderator(session: Session, room: LiveRoom, user_id: int, now: datetime) -> None:
    moderator = session.get(LiveModerator, (room.id, user_id))
    if moderator is None:
        raise NotFound(_("This user is not a moderator of this room."))
    session.delete(moderator)
    session.flush()
    _tell(session, room, moderator.user, now)

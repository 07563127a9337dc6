"""Socket.IO handlers of live rooms: parse, call one use case, commit, acknowledge.

Every acknowledgement is `{"ok": true, ...}` or `{"ok": false, "error": {code, message}}`; a
refused action changes nothing (the session is rolled back). Broadcasts leave after the commit.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_babel import gettext as _
from flask_socketio import join_room, leave_room

from commerce.accounts.auth import session_user
from commerce.accounts.models import User
from commerce.apispec import parse
from commerce.errors import DomainError, Forbidden, NotAuthenticated, ValidationFailed, error_body
from commerce.extensions import db, socketio
from commerce.live import chat, golive, services
from commerce.live.broadcast import fanout
from commerce.live.fanout import channel
from commerce.live.models import LiveRoom
from commerce.live.present import message_out, permissions_out, snapshot_out
from commerce.live.rules import Permissions
from commerce.live.schemas import (
    MessageRefIn,
    RoomChatIn,
    RoomFlashSaleIn,
    RoomHeartsIn,
    RoomMuteIn,
    RoomProductIn,
    RoomRef,
    RoomSettingsIn,
    RoomUserIn,
    SnapshotOut,
)
from commerce.timeutil import rfc3339, utcnow
from commerce.validation import Schema

Model = TypeVar("Model", bound=Schema)

# Joins building their snapshot at once, per process. An audience arriving together (thousands
# of greenlets under gevent) would otherwise take every pooled database connection and hold it
# while the others compute, until joins time out waiting for one and pages stall behind them;
# queued here, joins take turns and the rest of the pool stays free for pages.
JOINS_AT_ONCE = 8
_joins = threading.BoundedSemaphore(JOINS_AT_ONCE)  # a greenlet semaphore under gevent


def _signed_in() -> User:
    user = session_user()
    if user is None:
        raise NotAuthenticated(_("Please log in first."))
    return user


def live_event(
    name: str, schema: type[Model]
) -> Callable[[Callable[[Model], dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register a handler of `name` taking the parsed payload; errors become an error ack."""

    def decorator(handler: Callable[[Model], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handler)
        def wrapper(data: Any = None, *_args: Any) -> dict[str, Any]:
            try:
                if not isinstance(data, dict):
                    raise ValidationFailed(_("The event needs a JSON object."))
                result = handler(parse(schema, data))  # type: ignore[arg-type]
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                return {"ok": False, **error_body(error.code, error.message, error.fields)}
            return {"ok": True, **result}

        socketio.on_event(name, wrapper)
        return wrapper

    return decorator


def _snapshot(
    room: LiveRoom, user: User | None, permissions: Permissions, banned: bool, viewers: int
) -> SnapshotOut:
    now = utcnow()
    muted = services.current_mute(db.session, room, user.id, now) if user else None
    return snapshot_out(
        db.session,
        room,
        permissions=permissions_out(permissions, muted_until=muted, banned=banned),
        viewers=viewers,
        now=now,
    )


@live_event("live.join", RoomRef)
def on_join(data: RoomRef) -> dict[str, Any]:
    """Join the room's broadcasts and get the snapshot (also what a reconnecting client does)."""
    with _joins:
        user = session_user()
        room = services.access_room_to_watch(db.session, data.room)
        permissions, banned = services.permissions_of(db.session, room, user)
        if banned:
            raise Forbidden(_("You have been banned from this room."), code="banned")
        hub = fanout()
        join_room(channel(room.public_id))
        viewers = hub.join(room.public_id, request.sid, user.id if user else None)  # type: ignore[attr-defined]
        hub.start(current_app._get_current_object(), socketio.start_background_task)  # type: ignore[attr-defined]
        snapshot = _snapshot(room, user, permissions, banned, viewers)
        db.session.close()  # read only: its connection goes back to the pool for the next turn
    for pin in snapshot.pins.pins:
        if pin.flash is not None:
            hub.watch_flash(room.public_id, pin.flash.id)
    for flash in snapshot.pins.shelf_flashes:
        hub.watch_flash(room.public_id, flash.id)
    return {"snapshot": snapshot.model_dump(mode="json")}


@live_event("live.leave", RoomRef)
def on_leave(data: RoomRef) -> dict[str, Any]:
    leave_room(channel(data.room))
    fanout().leave(data.room, request.sid)  # type: ignore[attr-defined]
    return {}


@socketio.on("disconnect")
def on_disconnect(*_reason: Any) -> None:
    fanout().disconnect(request.sid)  # type: ignore[attr-defined]


def _require_member(room_id: str) -> None:
    if not fanout().is_member(room_id, request.sid):  # type: ignore[attr-defined]
        raise Forbidden(_("Join the room first."), code="not_joined")


@live_event("live.heart", RoomHeartsIn)
def on_heart(data: RoomHeartsIn) -> dict[str, Any]:
    _require_member(data.room)
    return {"counted": fanout().add_hearts(data.room, request.sid, data.count)}  # type: ignore[attr-defined]


@live_event("live.click", RoomProductIn)
def on_click(data: RoomProductIn) -> dict[str, Any]:
    _require_member(data.room)
    room = services.access_room(db.session, data.room)
    services.check_on_shelf(room, data.product_id)
    fanout().add_click(room.public_id, data.product_id)
    return {}


@live_event("live.send", RoomChatIn)
def on_send(data: RoomChatIn) -> dict[str, Any]:
    room = services.access_room(db.session, data.room)
    message = chat.do_post_message(db.session, room, _signed_in(), data.text, utcnow())
    return {"message": message_out(message, room).model_dump(mode="json")}


# The host's controls


@live_event("live.start", RoomRef)
def on_start(data: RoomRef) -> dict[str, Any]:
    room = services.access_room_as_host(db.session, data.room, session_user())
    golive.do_go_live(db.session, room, utcnow())
    return {"state": room.state}


@live_event("live.end", RoomRef)
def on_end(data: RoomRef) -> dict[str, Any]:
    room = services.access_room_as_host(db.session, data.room, session_user())
    services.do_end_room(db.session, room, utcnow())
    return {"state": room.state}


@live_event("live.pin", RoomProductIn)
def on_pin(data: RoomProductIn) -> dict[str, Any]:
    user = session_user()
    room = services.access_room_as_host(db.session, data.room, user)
    pin = services.do_pin(db.session, room, _signed_in(), data.product_id, utcnow())
    return {"pin_id": pin.id}


@live_event("live.unpin", RoomProductIn)
def on_unpin(data: RoomProductIn) -> dict[str, Any]:
    room = services.access_room_as_host(db.session, data.room, session_user())
    services.do_unpin(db.session, room, data.product_id, utcnow())
    return {}


@live_event("live.flash_sale", RoomFlashSaleIn)
def on_flash_sale(data: RoomFlashSaleIn) -> dict[str, Any]:
    user = session_user()
    room = services.access_room_as_host(db.session, data.room, user)
    flash = services.do_start_flash_sale(db.session, room, _signed_in(), data, utcnow())
    return {"flash_sale_id": flash.id}


# Moderation (host or moderators)


@live_event("live.delete_message", MessageRefIn)
def on_delete_message(data: MessageRefIn) -> dict[str, Any]:
    user = session_user()
    room, role = services.access_room_for_moderating(db.session, data.room, user)
    chat.do_delete_message(db.session, room, _signed_in(), role, data.message_id, utcnow())
    return {}


@live_event("live.mute", RoomMuteIn)
def on_mute(data: RoomMuteIn) -> dict[str, Any]:
    room, _role = services.access_room_for_moderating(db.session, data.room, session_user())
    mute = chat.do_mute(db.session, room, _signed_in(), data.user_id, data.seconds, utcnow())
    return {"until": rfc3339(mute.until)}


@live_event("live.unmute", RoomUserIn)
def on_unmute(data: RoomUserIn) -> dict[str, Any]:
    room, _role = services.access_room_for_moderating(db.session, data.room, session_user())
    chat.do_unmute(db.session, room, data.user_id, utcnow())
    return {}


@live_event("live.ban", RoomUserIn)
def on_ban(data: RoomUserIn) -> dict[str, Any]:
    room, _role = services.access_room_for_moderating(db.session, data.room, session_user())
    chat.do_ban(db.session, room, _signed_in(), data.user_id, utcnow())
    return {}


@live_event("live.unban", RoomUserIn)
def on_unban(data: RoomUserIn) -> dict[str, Any]:
    room, _role = services.access_room_for_moderating(db.session, data.room, session_user())
    chat.do_unban(db.session, room, data.user_id, utcnow())
    return {}


@live_event("live.settings", RoomSettingsIn)
def on_settings(data: RoomSettingsIn) -> dict[str, Any]:
    room, _role = services.access_room_for_moderating(db.session, data.room, session_user())
    chat.do_update_settings(db.session, room, data)
    return {"slow_mode_seconds": room.slow_mode_seconds, "keyword_filter": room.keyword_filter}

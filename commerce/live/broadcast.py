"""What a change tells the room: events queued on the session and sent only after its commit.

Low-rate events (state, pins, settings) go out as they are; chat and its deletions go through
the fan-out's per-room batch (see fanout.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from commerce.extensions import socketio
from commerce.live.fanout import LiveFanout, channel
from commerce.live.models import LiveChatMessage, LiveRoom
from commerce.live.present import message_out, pins_out, settings_out
from commerce.live.schemas import PermissionsOut
from commerce.realtime import after_commit, publish, user_room
from commerce.timeutil import rfc3339


def fanout() -> LiveFanout:
    return current_app.extensions["live_fanout"]


def publish_state(session: Session, room: LiveRoom) -> None:
    payload = {
        "room": room.public_id,
        "state": room.state,
        "started_at": rfc3339(room.started_at) if room.started_at else None,
        "ended_at": rfc3339(room.ended_at) if room.ended_at else None,
    }
    publish(session, "live.state", payload, room=channel(room.public_id))


def publish_pins(session: Session, room: LiveRoom, now: datetime) -> None:
    """The whole pin list with its version: a client keeps the highest version it has seen."""
    pins = pins_out(session, room, now)
    publish(session, "live.pins", pins.model_dump(mode="json"), room=channel(room.public_id))
    flash_ids = [pin.flash.id for pin in pins.pins if pin.flash is not None]
    flash_ids += [flash.id for flash in pins.shelf_flashes]
    if flash_ids:
        hub, key = fanout(), room.public_id

        def watch() -> None:  # the fan-out polls their stock from now on
            for flash_id in flash_ids:
                hub.watch_flash(key, flash_id)

        after_commit(session, watch)


def queue_chat(session: Session, room: LiveRoom, message: LiveChatMessage) -> None:
    payload = message_out(message, room).model_dump(mode="json")
    hub, key = fanout(), room.public_id
    after_commit(session, lambda: hub.add_chat(key, payload))


def queue_chat_deletion(session: Session, room: LiveRoom, message_id: int) -> None:
    hub, key = fanout(), room.public_id
    after_commit(session, lambda: hub.delete_chat(key, message_id))


def publish_settings(session: Session, room: LiveRoom) -> None:
    """Everyone learns the slow mode; the keyword list itself stays with the staff."""
    payload = {"room": room.public_id, **settings_out(room, staff=False).model_dump(mode="json")}
    publish(session, "live.settings", payload, room=channel(room.public_id))


def publish_permissions(
    session: Session, room: LiveRoom, user_id: int, permissions: PermissionsOut
) -> None:
    """Tell one user (all their tabs) what they may now do here: appointed, muted, banned..."""
    payload = {"room": room.public_id, **permissions.model_dump(mode="json")}
    publish(session, "live.permissions", payload, room=user_room(user_id))


def queue_kick(session: Session, room: LiveRoom, user_id: int) -> None:
    """A banned user's connections on this process leave the room's Socket.IO room now; other
    processes' fan-out ticks find the ban and do the same for theirs (fanout.BAN_SWEEP_SECONDS)."""
    hub, key = fanout(), room.public_id

    def kick() -> None:
        for sid in hub.sids_of(key, user_id):
            socketio.server.leave_room(sid, channel(key), namespace="/")
            hub.leave(key, sid)

    after_commit(session, kick)

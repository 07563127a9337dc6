"""After the message queue was away, rooms get their snapshot pushed instead of each page asking.

A page that missed events re-reads its state (static/js/realtime.js). For a live room that would
be one snapshot request per viewer at the same moment, about 18 ms each: a process with 1,000
viewers would take many seconds to answer them all. So each process builds the snapshot of each
room it has viewers in once, and sends it to them as `live.snapshot`, to this process's members
only (every process does its own). It holds what is the same for everyone; each page keeps its
own permissions, and asks the JSON API when no push comes.
"""

from __future__ import annotations

import logging

from flask import Flask

from commerce.errors import DomainError
from commerce.extensions import db, socketio
from commerce.live import services
from commerce.live.fanout import channel
from commerce.live.present import permissions_out, snapshot_out
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)

SNAPSHOT_EVENT = "live.snapshot"


def push_snapshots(app: Flask) -> None:
    """Send each room followed on this process its snapshot (a thread of its own may call it)."""
    hub = app.extensions["live_fanout"]
    # A request of no one: product cards hold URLs (url_for), relative ones, which need one.
    with app.test_request_context("/"):
        try:
            for public_id in hub.local_rooms():
                try:
                    room = services.access_room(db.session, public_id)
                except DomainError:
                    continue  # deleted meanwhile
                now = utcnow()
                permissions, _banned = services.permissions_of(db.session, room, None)
                snapshot = snapshot_out(
                    db.session,
                    room,
                    permissions=permissions_out(permissions, muted_until=None, banned=False),
                    viewers=hub.viewers(public_id),
                    now=now,
                ).model_dump(mode="json")
                del snapshot["permissions"]  # an anonymous viewer's: each page keeps its own
                socketio.emit(SNAPSHOT_EVENT, snapshot, to=channel(public_id), ignore_queue=True)
        except Exception:  # the pages fall back to asking the API
            log.exception("live rooms: could not push snapshots after a resync")
        finally:
            db.session.remove()

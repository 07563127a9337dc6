"""Live ingest inside the app: the media hub, its callbacks into rooms, RTMP, and ending.

The hub (media.live) knows nothing of rooms: it names a room by its public id and calls back
from its own threads. Each callback here pushes an app context, runs one use case, commits
(events leave after the commit) and removes the session. Nothing starts in create_app: the
hub is made on first use (a browser ingest, an HTTP-FLV viewer) or by `flask serve` /
`flask live-ingest`, which also start the RTMP server.

This process is one ingest node (handover.py): it claims each room it streams into, renews
that claim every LIVE_RECONCILE_SECONDS, and on a graceful stop lets its rooms go without
ending them, so a broadcaster reconnecting to the next process resumes the same show.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.errors import DomainError
from commerce.extensions import db
from commerce.live import parts, relay, rules
from commerce.live.handover import (
    do_claim_ingest,
    do_drop_ingest,
    do_heartbeat,
    do_stream_ended,
    do_stream_started,
    holds_ingest,
    publish_stream,
)
from commerce.live.models import LiveRoom
from commerce.live.services import authorize_stream_key
from commerce.timeutil import utcnow
from media.live import (
    LiveCallbacks,
    LiveHub,
    LiveOptions,
    RoomEnded,
    RoomState,
    RtmpIngestServer,
)
from media.live import LiveRoom as MediaRoom

log = logging.getLogger(__name__)

EXTENSION = "live_ingest"


def live_options(config: dict) -> LiveOptions:
    """Tests pass a LiveOptions as LIVE_OPTIONS; deployments set segment length and preset."""
    options = config.get("LIVE_OPTIONS")
    if isinstance(options, LiveOptions):
        return options
    return LiveOptions(segment_s=config["LIVE_SEGMENT_SECONDS"], preset=config["LIVE_PRESET"])


class LiveIngest:
    """One per app (app.extensions["live_ingest"]): the hub, the RTMP server, viewer slots."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._hub: LiveHub | None = None
        self._rtmp: RtmpIngestServer | None = None
        self._lock = threading.Lock()
        self._viewers: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._closing = False
        # Unique per process: a restarted process is another node, which takes a killed one's
        # rooms over once that node's lease lapses.
        self.node = f"{socket.gethostname()[:50]}-{os.getpid()}-{secrets.token_hex(4)}"

    # The hub --------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._hub is not None

    @property
    def hub(self) -> LiveHub:
        """The hub, made on first use (it creates LIVE_ROOT and the reconciling thread)."""
        with self._lock:
            if self._hub is None:
                config = self.app.config
                self._hub = LiveHub(
                    config["LIVE_ROOT"],
                    authorize=self._authorize,
                    options=live_options(config),
                    callbacks=LiveCallbacks(
                        on_started=self._on_started,
                        on_dropped=self._on_dropped,
                        on_resumed=self._on_resumed,
                        on_ended=self._on_ended,
                        on_part_closed=self._on_part_closed,
                        confirm_end=self._confirm_end,
                    ),
                    grace_s=float(config["LIVE_GRACE_SECONDS"]),
                    idle_timeout_s=float(config["LIVE_IDLE_TIMEOUT_SECONDS"]),
                    adopt_folders=True,  # rooms are claimed first (claim below)
                )
                threading.Thread(
                    target=self._reconcile_loop, daemon=True, name="live-reconcile"
                ).start()
            return self._hub

    def media_room(self, public_id: str) -> MediaRoom | None:
        """The room's media while it is live or within its grace, in this process."""
        return self._hub.room(public_id) if self._hub is not None else None

    def start_rtmp(self) -> RtmpIngestServer | None:
        """Listen for OBS on LIVE_RTMP_HOST:LIVE_RTMP_PORT (port 0 in config = no RTMP)."""
        port = int(self.app.config["LIVE_RTMP_PORT"])
        if not port or self._rtmp is not None:
            return self._rtmp
        self._rtmp = RtmpIngestServer(self.hub, host=self.app.config["LIVE_RTMP_HOST"], port=port)
        return self._rtmp.start()

    def close(self) -> None:
        """A graceful stop: let every room go without ending it, then stop RTMP.

        New publishes are refused first (OBS retries, and reaches the next process); each
        room's ingest is cut and its ffmpeg closes the recording part; the rooms then wait out
        their grace in the database, for a reconnect to any node or for the periodic sweep.
        """
        self._closing = True
        self._stop.set()
        hub = self._hub
        if hub is not None:
            rooms = {room.room_id: room for room in hub.rooms()}
            released = hub.release_all()
            try:
                with self._session() as session:
                    do_drop_ingest(session, released, self.node, utcnow())
                    session.commit()
            except Exception:  # the database is away: the rooms' leases lapse by themselves
                log.exception("live rooms %s not marked waiting", released)
            for public_id in released:  # stored as they closed: their local copies go
                if (room := rooms.get(public_id)) is not None:
                    parts.store_parts(self.app, public_id, upto=room.parts)
        if self._rtmp is not None:
            self._rtmp.stop()
            self._rtmp = None

    def claim(self, public_id: str) -> bool:
        """Take the room's ingest for this node, unless another node streams into it."""
        if self._closing:
            return False
        config = self.app.config
        with self._session() as session:
            claimed = do_claim_ingest(
                session,
                public_id,
                self.node,
                utcnow(),
                lease_s=float(config["LIVE_INGEST_LEASE_SECONDS"]),
                grace_s=float(config["LIVE_GRACE_SECONDS"]),
            )
            session.commit()
        return claimed

    def end_media(self, public_id: str, *, wait: bool) -> None:
        """The room ended in the database: stop its ingest, finalise the recording."""
        room = self.media_room(public_id)
        if room is None or room.state is RoomState.ENDED:
            return
        if wait:
            room.end()
        else:  # finalising the recording can take seconds: never in a request or the reconciler
            threading.Thread(target=room.end, daemon=True, name=f"live-end-{public_id}").start()

    # Low-latency viewer slots ---------------------------------------------------------------------

    def take_viewer_slot(self, public_id: str) -> bool:
        """Count a low-latency viewer in, unless the room is at LIVE_FLV_MAX_VIEWERS."""
        with self._lock:
            if self._viewers[public_id] >= int(self.app.config["LIVE_FLV_MAX_VIEWERS"]):
                return False
            self._viewers[public_id] += 1
            return True

    def release_viewer_slot(self, public_id: str) -> None:
        with self._lock:
            self._viewers[public_id] -= 1
            if self._viewers[public_id] <= 0:
                del self._viewers[public_id]

    # Callbacks, from library threads --------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """An app context and a session for one callback; always removed afterwards."""
        with self.app.app_context():
            try:
                yield db.session()
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    def _authorize(self, stream_key: str) -> str | None:
        with self._session() as session:
            public_id = authorize_stream_key(session, stream_key)
        if public_id is None:
            return None
        if not self.claim(public_id):
            log.info("room %s: another node streams into it, or its grace is over", public_id)
            return None
        return public_id

    def _on_started(self, media: MediaRoom) -> None:
        with self._session() as session:
            try:
                room = do_stream_started(session, media.room_id, utcnow())
            except DomainError:  # the creator pressed Go live at the same moment: read again
                session.rollback()
                room = do_stream_started(session, media.room_id, utcnow())
            relay.claim_origin(session, room, self.app.config)  # other nodes fetch it here
            session.commit()
            ended = room is None or room.state == rules.ENDED
        if ended:  # ended (or deleted) before its media became playable
            self.end_media(media.room_id, wait=False)

    def _on_resumed(self, media: MediaRoom) -> None:
        with self._session() as session:
            room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == media.room_id))
            if room is not None and room.state == rules.LIVE:
                # Resumed here, maybe after another node died: the other nodes now fetch it here.
                relay.claim_origin(session, room, self.app.config)
                publish_stream(session, room, "live")
                session.commit()

    def _on_dropped(self, media: MediaRoom) -> None:
        with self._session() as session:
            do_drop_ingest(session, [media.room_id], self.node, utcnow())
            session.commit()

    def _confirm_end(self, media: MediaRoom) -> bool:
        with self._session() as session:
            return holds_ingest(session, media.room_id, self.node)

    def _on_part_closed(self, media: MediaRoom, part: int) -> None:
        # Final, and maybe the last this node records of the show: to storage now, so the
        # replay has it even if this node never comes back. Kept here too: the show may resume
        # here, and its end here makes its timeline from the local parts.
        parts.store_parts(self.app, media.room_id, upto=part, keep=True)

    def _on_ended(self, event: RoomEnded) -> None:
        # Before the replay job: every part this node holds to storage; when the show is in
        # stored parts (maybe other nodes' too), the replay is made from them, not from the MP4.
        parts.store_parts(self.app, event.room_id)
        with self.app.app_context():
            in_parts = parts.has_stored_parts(event.room_id)
        relay.store_recording(self.app, event.room_id, event.recording, in_parts=in_parts)

        def end(session: Session) -> None:
            do_stream_ended(
                session,
                event.room_id,
                utcnow(),
                has_recording=event.recording is not None or in_parts,
                timeline=event.timeline,
            )

        with self._session() as session:
            try:
                end(session)
            except DomainError:  # ended by the creator at the same moment: read again
                session.rollback()
                end(session)
            session.commit()

    def _let_go(self, room: MediaRoom) -> None:
        """Another node took the room over: release it; its parts here are stored, and their
        local copies go (up to its own last part: in a shared folder the taker records on)."""
        if room.release():
            parts.store_parts(self.app, room.room_id, upto=room.parts)

    def _reconcile_loop(self) -> None:
        """Renew this node's lease on its rooms; let go of rooms another node took over; end the
        media of rooms ended in the database (by the creator, on any web node)."""
        next_sweep = 0.0  # at once: parts a killed process left here go to storage
        while not self._stop.wait(float(self.app.config["LIVE_RECONCILE_SECONDS"])):
            hub = self._hub
            rooms = hub.rooms() if hub is not None else []
            live = [r.room_id for r in rooms if r.state is not RoomState.ENDED]
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + float(self.app.config["LIVE_PARTS_SWEEP_SECONDS"])
                parts.sweep_parts(self.app, [r.room_id for r in rooms])
            if not rooms:
                continue
            try:
                with self._session() as session:
                    # Ended rooms still finalising count too: the sweep must not finish them.
                    held = [r.room_id for r in rooms]
                    lost = do_heartbeat(session, held, self.node, utcnow())
                    session.commit()
                    ended = list(
                        session.scalars(
                            select(LiveRoom.public_id).where(
                                LiveRoom.public_id.in_(live), LiveRoom.state == rules.ENDED
                            )
                        )
                    )
            except Exception:  # a database hiccup must not stop the loop
                log.exception("live reconcile failed")
                continue
            for public_id in ended:
                self.end_media(public_id, wait=False)
            for public_id in lost:  # resumed on another node: its folder is that node's now
                room = hub.room(public_id) if hub is not None else None
                if room is not None:
                    log.info("room %s: taken over by another ingest node", public_id)
                    threading.Thread(target=self._let_go, args=(room,), daemon=True).start()


def ingest() -> LiveIngest:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = LiveIngest(app)

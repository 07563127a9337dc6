"""Live ingest inside the app: the media hub, its callbacks into rooms, RTMP, and ending.

The hub (media.live) knows nothing of rooms: it names a room by its public id and calls back
from its own threads. Each callback here pushes an app context, runs one use case, commits
(events leave after the commit) and removes the session. Nothing starts in create_app: the
hub is made on first use (a browser ingest, an HTTP-FLV viewer) or by `flask serve` /
`flask live-ingest`, which also start the RTMP server.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.errors import DomainError
from commerce.extensions import db
from commerce.jobs.runner import enqueue
from commerce.live import relay, rules
from commerce.live.fanout import channel
from commerce.live.models import LiveRoom
from commerce.live.replay import REPLAY_JOB
from commerce.live.services import authorize_stream_key, do_end_room, do_go_live
from commerce.realtime import publish
from commerce.timeutil import utcnow
from media.live import (
    LiveCallbacks,
    LiveHub,
    LiveOptions,
    RecordingPart,
    RoomEnded,
    RoomState,
    RtmpIngestServer,
)
from media.live import LiveRoom as MediaRoom

log = logging.getLogger(__name__)

EXTENSION = "live_ingest"
STREAM_EVENT = "live.stream"


def stream_urls(public_id: str) -> dict[str, str]:
    """Where players find a room's media (same paths on every web node)."""
    return {
        "hls_url": f"/live/{public_id}/hls/master.m3u8",
        "flv_url": f"/live/{public_id}/flv",
    }


def publish_stream(session: Session, room: LiveRoom, stream: str) -> None:
    """Tell the room's viewers the media state: live (playable), waiting (dropped) or ended."""
    payload = {"room": room.public_id, "stream": stream, **stream_urls(room.public_id)}
    publish(session, STREAM_EVENT, payload, room=channel(room.public_id))


# Use cases the callbacks run ----------------------------------------------------------------------


def do_stream_started(session: Session, public_id: str, now: datetime) -> LiveRoom | None:
    """The media became playable: the room goes live unless the creator already did that."""
    room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
    if room is None:
        return None
    if room.state == rules.SCHEDULED:
        do_go_live(session, room, now)
    if room.state == rules.LIVE:
        publish_stream(session, room, "live")
    return room


def do_stream_ended(
    session: Session,
    public_id: str,
    now: datetime,
    *,
    has_recording: bool,
    timeline: tuple[RecordingPart, ...] = (),
) -> LiveRoom | None:
    """The media ended (grace expired, or ended): so does the room; its replay is queued."""
    room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
    if room is None:
        return None
    if timeline:
        room.media_timeline = [
            {
                "started_at": datetime.fromtimestamp(part.started_at, UTC)
                .replace(tzinfo=None)
                .isoformat(),
                "duration_ms": round(part.duration_s * 1000),
            }
            for part in timeline
        ]
    if room.state != rules.ENDED:
        do_end_room(session, room, now)
    publish_stream(session, room, "ended")
    if has_recording and room.started_at is not None and room.replay_video_id is None:
        enqueue(session, REPLAY_JOB, {"room_id": room.id})
    return room


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
                        on_dropped=lambda room: self._on_media_state(room, "waiting"),
                        on_resumed=lambda room: self._on_media_state(room, "live"),
                        on_ended=self._on_ended,
                    ),
                    grace_s=float(config["LIVE_GRACE_SECONDS"]),
                    idle_timeout_s=float(config["LIVE_IDLE_TIMEOUT_SECONDS"]),
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
        """Stop RTMP and end every room (their recordings are finalised, replays queued)."""
        self._stop.set()
        if self._rtmp is not None:
            self._rtmp.stop()
            self._rtmp = None
        if self._hub is not None:
            self._hub.close()

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
            return authorize_stream_key(session, stream_key)

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

    def _on_media_state(self, media: MediaRoom, stream: str) -> None:
        with self._session() as session:
            room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == media.room_id))
            if room is not None and room.state == rules.LIVE:
                publish_stream(session, room, stream)
                session.commit()

    def _on_ended(self, event: RoomEnded) -> None:
        relay.store_recording(self.app, event.room_id, event.recording)  # before the replay job

        def end(session: Session) -> None:
            do_stream_ended(
                session,
                event.room_id,
                utcnow(),
                has_recording=event.recording is not None,
                timeline=event.timeline,
            )

        with self._session() as session:
            try:
                end(session)
            except DomainError:  # ended by the creator at the same moment: read again
                session.rollback()
                end(session)
            session.commit()

    def _reconcile_loop(self) -> None:
        """End the media of rooms ended in the database (by the creator, on any web node)."""
        while not self._stop.wait(float(self.app.config["LIVE_RECONCILE_SECONDS"])):
            hub = self._hub
            live = [r.room_id for r in hub.rooms() if r.state is not RoomState.ENDED] if hub else []
            if not live:
                continue
            try:
                with self._session() as session:
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


def ingest() -> LiveIngest:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = LiveIngest(app)

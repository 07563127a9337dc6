"""The replay: a room's recording becomes a published Video (VOD pipeline) with its pins."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from commerce.files.models import StoredObject
from commerce.files.services import storage
from commerce.jobs.runner import JobContext, job_handler
from commerce.live import rules
from commerce.live.fanout import channel
from commerce.live.models import LiveRoom
from commerce.live.queries import pin_history
from commerce.realtime import publish
from commerce.timeutil import utcnow
from commerce.videos import pipeline
from commerce.videos.models import FAILED, PROCESSING, READY, Video, VideoPin
from commerce.videos.services import do_publish
from media.live.session import RECORDING_NAME
from media.probe import probe_video
from media.storage import Storage

log = logging.getLogger(__name__)

REPLAY_JOB = "live.replay"
REPLAY_EVENT = "live.replay"


def offset_ms(moment: datetime, started_at: datetime) -> int:
    """Milliseconds into the replay of a moment of the show (never before its start)."""
    return max(0, round((moment - started_at).total_seconds() * 1000))


def replay_pin_window(
    pinned_at: datetime, unpinned_at: datetime | None, started_at: datetime, duration_ms: int
) -> tuple[int, int | None] | None:
    """A live pin as a video pin (start_ms, end_ms); None when it falls outside the recording.

    An end at or beyond the recording's end becomes None ("until the end"), as video pins have
    it; a pin shorter than a millisecond is dropped (video pins need end > start).
    """
    start = offset_ms(pinned_at, started_at)
    if duration_ms and start >= duration_ms:
        return None
    end = offset_ms(unpinned_at, started_at) if unpinned_at is not None else None
    if end is not None and duration_ms and end >= duration_ms:
        end = None
    if end is not None and end <= start:
        return None
    return start, end


def recording_path(live_root: str, room: LiveRoom) -> str:
    """Where the media layer leaves the finalised recording of a room."""
    return os.path.join(live_root, room.public_id, RECORDING_NAME)


def do_create_replay_video(
    session: Session, backend: Storage, room: LiveRoom, recording: str, *, max_seconds: int
) -> Video:
    """A draft video of the creator, from the recording, with the room's pins at their offsets."""
    assert room.started_at is not None
    probe = probe_video(recording, max_duration_s=max_seconds)
    video = Video(
        public_id=secrets.token_urlsafe(9),
        creator_id=room.creator_id,
        title=room.title[:120],
        description=room.description,
        state=PROCESSING,
        duration_ms=int(probe.duration_s * 1000),
        width=probe.width,
        height=probe.height,
    )
    session.add(video)
    session.flush()
    key = f"{video.storage_prefix}source/original"
    # A copy: the live folder is the media layer's, and a retry must still find its recording.
    size = backend.save_file(key, recording, "video/mp4")
    video.source = StoredObject(backend=backend.backend, key=key, size=size)
    for pin in pin_history(session, room):
        window = replay_pin_window(
            pin.pinned_at, pin.unpinned_at, room.started_at, video.duration_ms
        )
        if window is not None:
            video.pins.append(
                VideoPin(product_id=pin.product_id, start_ms=window[0], end_ms=window[1])
            )
    room.replay_video_id = video.id
    session.flush()
    return video


def publish_replay(session: Session, room: LiveRoom, video: Video) -> None:
    payload = {"room": room.public_id, "video_id": video.public_id, "url": f"/v/{video.public_id}"}
    publish(session, REPLAY_EVENT, payload, room=channel(room.public_id))


def _replay_failed(session: Session, payload: dict[str, Any], error: str) -> None:
    room = session.get(LiveRoom, payload.get("room_id"))
    if room is None or room.replay_video_id is None:
        log.error("live replay of room %s failed: %s", payload.get("room_id"), error)
        return
    video = session.get(Video, room.replay_video_id)
    if video is not None and video.state != READY:
        video.state = FAILED
        video.error = error.splitlines()[-1][:500] if error else "processing failed"
        pipeline.announce(session, video)


@job_handler(REPLAY_JOB, on_failure=_replay_failed)
def make_replay(payload: dict[str, Any], ctx: JobContext) -> None:
    """Recording -> Video (through video.transcode's steps) -> published, linked to the room."""
    session = ctx.session
    room = session.get(LiveRoom, payload["room_id"])
    if room is None or room.state != rules.ENDED or room.started_at is None:
        return
    config = current_app.config
    video = session.get(Video, room.replay_video_id) if room.replay_video_id else None
    if video is not None and video.state == READY and video.is_published:
        return  # done by an earlier attempt
    recording = recording_path(config["LIVE_ROOT"], room)
    if video is None:
        video = do_create_replay_video(
            session,
            storage(),
            room,
            recording,
            max_seconds=config["LIVE_REPLAY_MAX_SECONDS"],
        )
        session.commit()  # the source is stored and linked: a retry resumes from here
    pipeline.transcode(
        {"video_id": video.id, "max_seconds": config["LIVE_REPLAY_MAX_SECONDS"]}, ctx
    )
    do_publish(video, utcnow())
    publish_replay(session, room, video)
    session.commit()
    # The replay now has its own copy; the live playlists stop being served (see streams.py).
    with contextlib.suppress(OSError):
        os.remove(recording)

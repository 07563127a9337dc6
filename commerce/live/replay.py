"""The replay: a room's recording becomes a published Video (VOD pipeline) with its pins."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from commerce.files.models import StoredObject
from commerce.files.services import storage
from commerce.jobs.registry import MEDIA
from commerce.jobs.runner import JobContext, job_handler
from commerce.live import parts, relay, rules
from commerce.live.fanout import channel
from commerce.live.models import LiveRoom
from commerce.live.queries import pin_history
from commerce.realtime import publish
from commerce.timeutil import utcnow
from commerce.videos import pipeline
from commerce.videos.models import FAILED, PROCESSING, READY, Video, VideoPin
from commerce.videos.services import do_publish
from media.live import remove_room_folder, room_folder
from media.live.recording import RECORDING_NAME, RecordingPart, finalise_recording
from media.probe import probe_video
from media.storage import Storage

log = logging.getLogger(__name__)

REPLAY_JOB = "live.replay"
REPLAY_EVENT = "live.replay"


@dataclass(frozen=True)
class ReplayPart:
    """A stretch of the show that is in the recording, back to back with the others."""

    started_at: datetime
    duration_ms: int | None  # None: to the end (no media timeline was recorded)


def replay_clock(room: LiveRoom) -> list[ReplayPart]:
    """The recording's parts of the show; without a media timeline, the show from its start."""
    if room.media_timeline:
        return [
            ReplayPart(datetime.fromisoformat(part["started_at"]), int(part["duration_ms"]))
            for part in room.media_timeline
        ]
    assert room.started_at is not None
    return [ReplayPart(room.started_at, None)]


def offset_ms(moment: datetime, clock: list[ReplayPart]) -> int:
    """Milliseconds into the replay of a moment of the show.

    The replay is the parts back to back: a moment before the first part, or in a gap between
    two, is placed where the next part begins; after the last, at the end.
    """
    before = 0
    for part in clock:
        into = round((moment - part.started_at).total_seconds() * 1000)
        if into < 0:
            return before
        if part.duration_ms is None or into < part.duration_ms:
            return before + into
        before += part.duration_ms
    return before


def shown_until(unpinned_at: datetime | None, *, closed_by_end: bool) -> datetime | None:
    """When a live pin leaves the replay; None: at its end.

    A pin the show's end closed stays to the last frame: the recording runs on past the End
    press by the chunks still in flight, so its unpinned_at falls a little short of the end.
    """
    return None if closed_by_end else unpinned_at


def replay_pin_window(
    pinned_at: datetime,
    unpinned_at: datetime | None,
    clock: list[ReplayPart],
    duration_ms: int,
    *,
    closed_by_end: bool = False,
) -> tuple[int, int | None] | None:
    """A live pin as a video pin (start_ms, end_ms); None when it falls outside the recording.

    An end at or beyond the recording's end becomes None ("until the end"), as video pins have
    it; a pin shorter than a millisecond is dropped (video pins need end > start).
    """
    unpinned_at = shown_until(unpinned_at, closed_by_end=closed_by_end)
    # The recording's end as the parts tell it and as the probe of the file does: they can
    # differ by a frame or two, and a moment at either is the end.
    ends = [duration_ms] if duration_ms else []
    if clock and all(part.duration_ms is not None for part in clock):
        ends.append(sum(part.duration_ms or 0 for part in clock))
    last = min(ends) if ends else None
    start = offset_ms(pinned_at, clock)
    if last is not None and start >= last:
        return None
    end = offset_ms(unpinned_at, clock) if unpinned_at is not None else None
    if end is not None and last is not None and end >= last:
        end = None
    if end is not None and end <= start:
        return None
    return start, end


def timeline_json(timeline: tuple[RecordingPart, ...]) -> list[dict[str, Any]]:
    """The recording's parts as stored in LiveRoom.media_timeline (naive UTC, milliseconds)."""
    return [
        {
            "started_at": datetime.fromtimestamp(part.started_at, UTC)
            .replace(tzinfo=None)
            .isoformat(),
            "duration_ms": round(part.duration_s * 1000),
        }
        for part in timeline
    ]


def recording_path(live_root: str, room: LiveRoom) -> str:
    """Where the media layer leaves the finalised recording of a room."""
    return os.path.join(room_folder(live_root, room.public_id), RECORDING_NAME)


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
    clock = replay_clock(room)
    for pin in pin_history(session, room):
        window = replay_pin_window(
            pin.pinned_at,
            pin.unpinned_at,
            clock,
            video.duration_ms,
            closed_by_end=pin.closed_by_end,
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


@job_handler(REPLAY_JOB, queue=MEDIA, on_failure=_replay_failed)
def make_replay(payload: dict[str, Any], ctx: JobContext) -> None:
    """Recording -> Video (through video.transcode's steps) -> published, linked to the room."""
    session = ctx.session
    room = session.get(LiveRoom, payload["room_id"])
    if room is None or room.state != rules.ENDED or room.started_at is None:
        return
    config = current_app.config
    video = session.get(Video, room.replay_video_id) if room.replay_video_id else None
    if video is not None and video.state == READY and video.is_published:
        # Done by an earlier attempt, which may have stopped before clearing the live folder.
        remove_live_media(config["LIVE_ROOT"], room)
        return
    if video is None and parts.stored_parts(storage(), room.public_id):
        video = replay_from_parts(session, room, config)  # the show may span several nodes
        session.commit()  # the source is stored and linked: a retry resumes from here
    recording = recording_path(config["LIVE_ROOT"], room)
    if video is None and not os.path.exists(recording) and not relay.recording_stored(room):
        # No process finalised it (the ingest was killed, the room ended by the sweep): make it
        # from every readable part, in order, and place them in the show.
        made, timeline = finalise_recording(room_folder(config["LIVE_ROOT"], room.public_id))
        if made is None:
            log.error("live replay of room %s: no readable recording", room.public_id)
            return
        if timeline and not room.media_timeline:
            room.media_timeline = timeline_json(timeline)
    if video is None:
        with relay.recording_file(recording, room) as local:  # the live folder's, or storage's
            video = do_create_replay_video(
                session,
                storage(),
                room,
                local,
                max_seconds=config["LIVE_REPLAY_MAX_SECONDS"],
            )
        session.commit()  # the source is stored and linked: a retry resumes from here
    pipeline.transcode(
        {"video_id": video.id, "max_seconds": config["LIVE_REPLAY_MAX_SECONDS"]}, ctx
    )
    do_publish(session, video, utcnow())
    publish_replay(session, room, video)
    session.commit()
    remove_live_media(config["LIVE_ROOT"], room)


class PartsPending(RuntimeError):
    """Parts the ending node recorded are not stored yet (their upload is retried)."""


def replay_from_parts(session: Session, room: LiveRoom, config: Any) -> Video:
    """The replay from every stored part and the live folder's own, placed by their starts."""
    backend = storage()
    folder = room_folder(config["LIVE_ROOT"], room.public_id)
    present = parts.present_starts(backend, room.public_id, folder)
    if missing := parts.missing_parts(room.media_timeline, present):
        raise PartsPending(f"{missing} recording part(s) of room {room.public_id} not stored yet")
    with parts.assembled_recording(backend, room.public_id, folder, config["WORK_DIR"]) as (
        made,
        timeline,
    ):
        if made is None:
            raise RuntimeError(f"live replay of room {room.public_id}: no readable part")
        assembled = timeline_json(timeline) if timeline else None
        if not parts.same_timeline(room.media_timeline, assembled):
            # Other nodes' parts too: the ending node's timeline had only its own.
            room.media_timeline = assembled
        return do_create_replay_video(
            session, backend, room, made, max_seconds=config["LIVE_REPLAY_MAX_SECONDS"]
        )


def remove_live_media(live_root: str, room: LiveRoom) -> None:
    """Delete the room's live folder (HLS, recording parts, recording.mp4) once its replay is
    published; never before, as a failed attempt is retried from the recording.

    No delay for the viewers still on the live HLS: from the commit that publishes the replay
    the folder is no longer served (streams.py answers 404), and a segment already being sent
    keeps its open file.
    """
    try:
        remove_room_folder(live_root, room.public_id)
    except (OSError, ValueError):  # the replay is safe: a folder left over is an operator's
        log.exception("live folder of room %s not removed", room.public_id)
    relay.forget_recording(room)
    parts.forget_parts(storage(), room.public_id)

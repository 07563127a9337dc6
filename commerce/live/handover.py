"""A room outlives its ingest process: what the media does to the room, who holds its ingest.

Each ingest node (a `flask live-ingest` or `flask serve` process) has an id. Taking a stream
claims the room's row (ingest_node, ingest_seen_at); the node's heartbeat renews it; a drop
or a graceful stop writes ingest_dropped_at. A room whose ingest dropped, or whose node went
silent (kill -9), waits out LIVE_GRACE_SECONDS: the same stream key reconnecting to any node
resumes it; past the grace, `end_abandoned_rooms` (a periodic task, once per deployment) ends
it and queues its replay, which is made from every recorded part.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from commerce.jobs.runner import enqueue, periodic
from commerce.live import parts, rules
from commerce.live.fanout import channel
from commerce.live.golive import do_go_live
from commerce.live.models import LiveRoom
from commerce.live.replay import REPLAY_JOB, timeline_json
from commerce.live.services import do_end_room
from commerce.realtime import publish
from commerce.timeutil import utcnow
from media.live import RecordingPart, room_folder
from media.live.playlist import end_folder_playlists
from media.live.recording import recorded_parts

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


def _room(session: Session, public_id: str) -> LiveRoom | None:
    return session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))


# What the media does to the room ------------------------------------------------------------------


def do_stream_started(session: Session, public_id: str, now: datetime) -> LiveRoom | None:
    """The media became playable: the room goes live unless the creator already did that."""
    room = _room(session, public_id)
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
    room = _room(session, public_id)
    if room is None:
        return None
    if timeline:
        room.media_timeline = timeline_json(timeline)
    if room.state != rules.ENDED:
        do_end_room(session, room, now)
    publish_stream(session, room, "ended")
    if has_recording and room.started_at is not None and room.replay_video_id is None:
        enqueue(session, REPLAY_JOB, {"room_id": room.id})
    # The ingest is over: nothing holds the room, and the sweep never takes it up again.
    room.ingest_node = room.ingest_seen_at = room.ingest_dropped_at = None
    return room


# The ingest lease ---------------------------------------------------------------------------------


def do_claim_ingest(
    session: Session, public_id: str, node: str, now: datetime, *, lease_s: float, grace_s: float
) -> bool:
    """Take the room's ingest for `node`, as rules.may_take_ingest says, in one conditional
    UPDATE: two nodes racing for one room cannot both win, and neither wins an ended room."""
    lease_cutoff = now - timedelta(seconds=lease_s)
    grace_cutoff = now - timedelta(seconds=grace_s)
    seen, dropped = LiveRoom.ingest_seen_at, LiveRoom.ingest_dropped_at
    result = session.execute(
        update(LiveRoom)
        .where(
            LiveRoom.public_id == public_id,
            LiveRoom.state != rules.ENDED,
            or_(
                seen.is_(None),  # never streamed
                and_(dropped.is_(None), seen >= lease_cutoff, LiveRoom.ingest_node == node),
                and_(dropped.is_not(None), dropped >= grace_cutoff),  # dropped, in its grace
                and_(dropped.is_(None), seen < lease_cutoff, seen >= grace_cutoff),  # silent
            ),
        )
        .values(ingest_node=node, ingest_seen_at=now, ingest_dropped_at=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def do_drop_ingest(
    session: Session, public_ids: Collection[str], node: str, now: datetime
) -> list[LiveRoom]:
    """The node's connections to these rooms ended (a drop, or the node stopping): their grace
    starts now. Returns the rooms still live, whose viewers are told to wait."""
    if not public_ids:
        return []
    session.execute(
        update(LiveRoom)
        .where(
            LiveRoom.public_id.in_(public_ids),
            LiveRoom.ingest_node == node,
            LiveRoom.ingest_dropped_at.is_(None),
        )
        .values(ingest_dropped_at=now)
        .execution_options(synchronize_session=False)
    )
    rooms = list(
        session.scalars(
            select(LiveRoom).where(
                LiveRoom.public_id.in_(public_ids),
                LiveRoom.ingest_node == node,
                LiveRoom.state == rules.LIVE,
            )
        )
    )
    for room in rooms:
        publish_stream(session, room, "waiting")
    return rooms


def do_heartbeat(
    session: Session, public_ids: Collection[str], node: str, now: datetime
) -> list[str]:
    """Renew the node's lease on the rooms it holds; returns those another node took over."""
    if not public_ids:
        return []
    session.execute(
        update(LiveRoom)
        .where(LiveRoom.public_id.in_(public_ids), LiveRoom.ingest_node == node)
        .values(ingest_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(LiveRoom.public_id).where(
                LiveRoom.public_id.in_(public_ids), LiveRoom.ingest_node != node
            )
        )
    )


def holds_ingest(session: Session, public_id: str, node: str) -> bool:
    """Whether the room is still this node's to end (nobody else took it over)."""
    holder = session.scalar(select(LiveRoom.ingest_node).where(LiveRoom.public_id == public_id))
    return holder in (None, node)


# Rooms whose ingest never came back ---------------------------------------------------------------


def do_end_abandoned_rooms(
    session: Session, now: datetime, *, live_root: str, lease_s: float, grace_s: float
) -> list[LiveRoom]:
    """End the live rooms no node renews whose grace is over, and finish the rooms ended (End
    pressed) while no node held their ingest: ENDLIST, and their replays queued.

    Each is read again under its row lock: a broadcaster reconnecting at that moment either
    claimed first (the room is held again, left alone) or finds it ended.
    """
    lease_cutoff = now - timedelta(seconds=lease_s)
    candidates = session.scalars(
        select(LiveRoom.id).where(
            LiveRoom.state.in_((rules.LIVE, rules.ENDED)),
            LiveRoom.ingest_seen_at.is_not(None),
            LiveRoom.ingest_seen_at < lease_cutoff,
        )
    ).all()
    ended = []
    for room_id in candidates:
        session.execute(  # the row lock first (both engines), then the state it protects
            update(LiveRoom)
            .where(LiveRoom.id == room_id)
            .values(ingest_seen_at=LiveRoom.ingest_seen_at)
            .execution_options(synchronize_session=False)
        )
        room = session.get(LiveRoom, room_id, populate_existing=True)
        if room is None or not rules.ingest_abandoned(
            room.ingest_seen_at,
            room.ingest_dropped_at,
            now,
            lease_s=lease_s,
            grace_s=grace_s,
            ended=room.state == rules.ENDED,
        ):
            continue
        folder = room_folder(live_root, room.public_id)
        end_folder_playlists(folder)  # rewritten by nobody now: players see the end
        # The recording is finalised by the replay job, from every part that is readable.
        recorded = bool(recorded_parts(folder)) or parts.has_stored_parts(room.public_id)
        do_stream_ended(session, room.public_id, now, has_recording=recorded)
        ended.append(room)
    return ended


@periodic(5, setting="LIVE_SWEEP_SECONDS")
def end_abandoned_rooms(session: Session) -> None:
    """Rooms whose ingest process died or stopped, and whose broadcaster did not come back."""
    config = current_app.config
    do_end_abandoned_rooms(
        session,
        utcnow(),
        live_root=os.fspath(config["LIVE_ROOT"]),
        lease_s=float(config["LIVE_INGEST_LEASE_SECONDS"]),
        grace_s=float(config["LIVE_GRACE_SECONDS"]),
    )

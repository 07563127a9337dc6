"""What a live hub tells the app: room states, refusals, segments, the end, and the hooks."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from media.live.recording import RecordingPart

if TYPE_CHECKING:
    from media.live.session import LiveRoom


class RoomState(enum.StrEnum):
    """LIVE: an ingest is connected. WAITING: dropped, within the grace. ENDED: final."""

    LIVE = "live"
    WAITING = "waiting"
    ENDED = "ended"


class IngestRefused(Exception):
    """A publish was refused (unknown stream key, room ended or already publishing)."""


@dataclass(frozen=True)
class SegmentEvent:
    """A new segment became available in one rendition's live playlist."""

    room_id: str
    rendition: str
    uri: str  # relative to the rendition playlist, e.g. "seg_00012.ts"
    sequence: int
    duration_s: float
    program_date_time: str | None
    discontinuity: bool


@dataclass(frozen=True)
class RoomEnded:
    """What on_ended receives."""

    room_id: str
    reason: str  # "grace_expired" | "ended" (LiveRoom.end / LiveHub.close)
    recording: str | None  # absolute path of the finalised MP4, None when nothing was recorded
    parts: int  # ingest connections the room had
    timeline: tuple[RecordingPart, ...] = ()  # the recording's parts in wall-clock time


@dataclass
class LiveCallbacks:
    """Hooks the app uses to emit events; each is called from a library thread."""

    on_started: Callable[[LiveRoom], None] | None = None  # first time the master is playable
    on_dropped: Callable[[LiveRoom], None] | None = None  # ingest lost, grace period begins
    on_resumed: Callable[[LiveRoom], None] | None = None  # a new ingest within the grace
    on_segment: Callable[[SegmentEvent], None] | None = None
    on_ended: Callable[[RoomEnded], None] | None = None
    # A recording part is closed and the room goes on (a drop, or released): its file is final
    # and the app may move it to storage. Not called for the parts of an ending room (on_ended).
    on_part_closed: Callable[[LiveRoom, int], None] | None = None
    # Asked when the grace runs out, before anything is finalised: False means the room went on
    # elsewhere (another ingest node took it over), so this hub forgets it and leaves its folder.
    confirm_end: Callable[[LiveRoom], bool] | None = None

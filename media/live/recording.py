"""A room's recording: its parts (one per ingest connection), when each began, and the MP4.

The replay is the parts back to back: the gaps between ingest connections are not in it. Each
part's start is also written beside it (part_NNNN.start), so a process that did not record a
part (a restarted or other ingest node, or the sweeper of an abandoned room) can still place it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from media.live.commands import RECORDING_DIR, build_concat_argv
from media.probe import InvalidMedia, ffprobe_json

log = logging.getLogger(__name__)

RECORDING_NAME = "recording.mp4"
_PART = re.compile(r"part_(\d+)\.ts$")
_START_SUFFIX = ".start"


@dataclass(frozen=True)
class RecordingPart:
    """One ingest connection's share of the recording."""

    started_at: float  # wall clock (epoch seconds) when its first bytes arrived
    duration_s: float  # its length in the recording


def part_number(path: str) -> int | None:
    match = _PART.search(os.path.basename(path))
    return int(match.group(1)) if match else None


def recorded_parts(out_dir: str) -> list[str]:
    """The room's non-empty part files, in recording order."""
    folder = os.path.join(out_dir, RECORDING_DIR)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    paths = [os.path.join(folder, n) for n in names if _PART.fullmatch(n)]
    return sorted(p for p in paths if os.path.getsize(p) > 0)


def last_part(out_dir: str) -> int:
    """The highest part number already in the folder (0 when none): a new connection follows it."""
    folder = os.path.join(out_dir, RECORDING_DIR)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    return max((n for n in map(part_number, names) if n is not None), default=0)


def write_part_start(out_dir: str, part: int, started_at: float) -> None:
    path = os.path.join(out_dir, RECORDING_DIR, f"part_{part:04d}.ts{_START_SUFFIX}")
    with open(path, "w", encoding="ascii") as fh:
        fh.write(repr(started_at))


def read_part_starts(out_dir: str) -> dict[int, float]:
    """Part number -> wall-clock start, as written beside the parts."""
    starts = {}
    for path in recorded_parts(out_dir):
        try:
            with open(path + _START_SUFFIX, encoding="ascii") as fh:
                starts[part_number(path) or 0] = float(fh.read())
        except (OSError, ValueError):
            continue
    return starts


def part_start(path: str) -> float | None:
    """When a part began: as written beside it, else its last write less its length; None when
    nothing of it is readable."""
    try:
        with open(path + _START_SUFFIX, encoding="ascii") as fh:
            return float(fh.read())
    except (OSError, ValueError):
        pass
    duration = _duration(path)
    if duration is None:
        return None
    return os.path.getmtime(path) - duration


def forget_part_start(path: str) -> None:
    """The part went elsewhere (to storage): its start written beside it goes too."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path + _START_SUFFIX)


def _duration(path: str) -> float | None:
    try:
        duration = float(ffprobe_json(path)["format"]["duration"])
    except (KeyError, ValueError, OSError, InvalidMedia):
        return None
    return duration if duration > 0 else None


def readable_parts(paths: list[str]) -> list[tuple[str, float]]:
    """The parts ffprobe can read, with their durations. A process killed mid-part leaves a
    truncated last part: what of it is readable is kept; a part with nothing readable is not."""
    found = []
    for path in paths:
        duration = _duration(path)
        if duration is None:
            log.warning("recording part %s is unreadable: left out of the replay", path)
            continue
        found.append((path, duration))
    return found


def part_timeline(paths: list[str], started: Mapping[int, float]) -> tuple[RecordingPart, ...]:
    """The parts in recording order with their start times and probed durations.

    A part whose start is unknown or whose duration cannot be read ends the timeline: what
    follows it could not be placed, and the app then falls back to the show's start.
    """
    timeline = []
    for path in paths:
        number = part_number(path)
        began = started.get(number) if number is not None else None
        duration = _duration(path)
        if began is None or duration is None:
            break
        timeline.append(RecordingPart(started_at=began, duration_s=duration))
    return tuple(timeline)


def finalise_recording(
    out_dir: str, started: Mapping[int, float] | None = None
) -> tuple[str | None, tuple[RecordingPart, ...]]:
    """Concatenate every readable part, in order, into out_dir/recording.mp4.

    Returns (its path, or None when nothing was recorded; the parts' timeline). Written under
    a temporary name and renamed, so a reader never sees half a file. `started` adds starts
    known in memory to those written beside the parts.
    """
    parts = readable_parts(recorded_parts(out_dir))
    if not parts:
        return None, ()
    starts = {**read_part_starts(out_dir), **(started or {})}
    paths = [path for path, _ in parts]
    timeline = part_timeline(paths, starts)
    out = os.path.join(out_dir, RECORDING_NAME)
    tmp = os.path.join(out_dir, f".{RECORDING_NAME}.tmp")
    argv = build_concat_argv(paths, os.path.join(out_dir, RECORDING_DIR, "parts.txt"), tmp)
    try:
        subprocess.run(argv, capture_output=True, timeout=300, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log.error("%s: recording not finalised: %s", out_dir, exc)
        return None, timeline
    os.replace(tmp, out)
    return out, timeline

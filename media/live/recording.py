"""Where each recording part sits in time, so the app can place show moments in the replay.

The replay is the parts back to back: the gaps between ingest connections are not in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from media.probe import InvalidMedia, ffprobe_json

_PART = re.compile(r"part_(\d+)\.ts$")


@dataclass(frozen=True)
class RecordingPart:
    """One ingest connection's share of the recording."""

    started_at: float  # wall clock (epoch seconds) when its first bytes arrived
    duration_s: float  # its length in the recording


def part_timeline(paths: list[str], started: Mapping[int, float]) -> tuple[RecordingPart, ...]:
    """The parts in recording order with their start times and probed durations.

    A part whose start is unknown or whose duration cannot be read ends the timeline: what
    follows it could not be placed, and the app then falls back to the show's start.
    """
    timeline = []
    for path in paths:
        match = _PART.search(os.path.basename(path))
        began = started.get(int(match.group(1))) if match else None
        try:
            duration = float(ffprobe_json(path)["format"]["duration"])
        except (KeyError, ValueError, OSError, InvalidMedia):
            duration = None
        if began is None or duration is None:
            break
        timeline.append(RecordingPart(started_at=began, duration_s=duration))
    return tuple(timeline)

"""Blocking playlist reload, the LL-HLS delivery directive (RFC 8216bis 6.2.5.2).

A player that read a media playlist ending at segment N asks for `index.m3u8?_HLS_msn=N+1`,
and the server answers once that segment is listed. The player learns of each segment when it
is written, instead of up to a target duration later at its next poll: without this, where a
player's polls fall against the encoder's cuts is chance, fixed for the session, and adds
0-1 s of latency at 1 s segments (make bench-live-browser). Only whole segments: ffmpeg's HLS
muxer writes no parts, so `_HLS_part` asks for the segment that holds the part.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from media.live.playlist import LivePlaylist, parse_live_playlist

SERVER_CONTROL = "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES"
MAX_AHEAD = 2  # a request past the last segment + 2 is refused (RFC 8216bis 6.2.5.2)
BLOCK_TARGET_DURATIONS = 3  # block at most three target durations, then 503
POLL_S = 0.02  # ffmpeg renames the playlist into place: a stat every 20 ms sees it


class BadDirective(ValueError):
    """The request's delivery directives cannot be answered (HTTP 400)."""


@dataclass(frozen=True)
class Directive:
    msn: int  # answer once the playlist lists this media sequence number


def parse_directive(msn: str | None, part: str | None) -> Directive | None:
    """The `_HLS_msn` / `_HLS_part` query values, or None for a plain request."""
    if msn is None:
        if part is not None:
            raise BadDirective("_HLS_part needs _HLS_msn")
        return None
    for name, value in (("_HLS_msn", msn), ("_HLS_part", part)):
        if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 12):
            raise BadDirective(f"{name} must be a whole number")
    return Directive(int(msn))


def next_sequence(playlist: LivePlaylist) -> int:
    """The media sequence number the next segment will have."""
    return playlist.media_sequence + len(playlist.segments)


def answers(playlist: LivePlaylist, directive: Directive) -> bool:
    """The playlist can be sent: it lists the segment, or nothing more will come."""
    return playlist.ended or next_sequence(playlist) > directive.msn


def advertise_blocking_reload(text: str) -> str:
    """The media playlist saying the server blocks reloads (after its target duration tag)."""
    lines = text.splitlines()
    at = next((i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-TARGETDURATION:")), 0)
    lines.insert(at + 1, SERVER_CONTROL)
    return "\n".join(lines) + "\n"


def wait_for_segment(
    path: str | os.PathLike[str],
    directive: Directive,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """The playlist text once it answers the directive; None after three target durations.

    Raises FileNotFoundError when there is no playlist, BadDirective when the segment asked for
    is further ahead than a player may ask.
    """
    text, playlist = _read(path)
    if answers(playlist, directive):
        return text
    if directive.msn > next_sequence(playlist) - 1 + MAX_AHEAD:
        raise BadDirective("_HLS_msn is too far ahead of the live edge")
    if playlist.target_duration_s <= 0:
        raise ValueError("no #EXT-X-TARGETDURATION")
    deadline = clock() + BLOCK_TARGET_DURATIONS * playlist.target_duration_s
    seen = os.stat(path).st_mtime_ns
    while clock() < deadline:
        sleep(POLL_S)
        try:
            changed = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return None  # the room folder went: the caller answers as for a late segment
        if changed == seen:
            continue
        seen = changed
        try:
            text, playlist = _read(path)
        except ValueError:
            seen = -1  # caught mid-write by a writer that does not rename: read it again next poll
            continue
        if answers(playlist, directive):
            return text
    return None


def _read(path: str | os.PathLike[str]) -> tuple[str, LivePlaylist]:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return text, parse_live_playlist(text)

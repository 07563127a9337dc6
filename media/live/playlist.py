"""Live playlist helpers: parse a sliding playlist, end it, write the master."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from media.ffrun import FFPROBE
from media.hls import codecs_string, write_atomic
from media.live.commands import LiveRung

ENDLIST = "#EXT-X-ENDLIST"


@dataclass(frozen=True)
class LiveSegment:
    """One segment of a live playlist with its absolute media sequence number."""

    sequence: int
    uri: str
    duration_s: float
    program_date_time: str | None
    discontinuity: bool


@dataclass(frozen=True)
class LivePlaylist:
    """What the window of a live playlist currently holds."""

    media_sequence: int
    segments: list[LiveSegment]
    ended: bool
    discontinuity_sequence: int
    target_duration_s: float = 0.0  # #EXT-X-TARGETDURATION; 0 when the playlist has none


def parse_live_playlist(text: str) -> LivePlaylist:
    """Parse the text of a live media playlist (raise ValueError when it is not one)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an M3U8 playlist")
    media_sequence = 0
    disc_seq = 0
    target_duration = 0.0
    segments: list[LiveSegment] = []
    duration: float | None = None
    pdt: str | None = None
    disc = False
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-MEDIA-SEQUENCE":
            media_sequence = int(value)
        elif tag == "#EXT-X-TARGETDURATION":
            target_duration = float(value)
        elif tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
            disc_seq = int(value)
        elif tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            pdt = value
        elif tag == "#EXT-X-DISCONTINUITY":
            disc = True
        elif not line.startswith("#"):
            if duration is None:
                raise ValueError(f"segment {line!r} without #EXTINF")
            segments.append(LiveSegment(media_sequence + len(segments), line, duration, pdt, disc))
            duration, pdt, disc = None, None, False
    return LivePlaylist(media_sequence, segments, ENDLIST in lines, disc_seq, target_duration)


def read_live_playlist(path: str | os.PathLike[str]) -> LivePlaylist | None:
    """The playlist at path, or None while it does not exist yet."""
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_live_playlist(fh.read())
    except FileNotFoundError:
        return None


def end_playlist(path: str | os.PathLike[str]) -> bool:
    """Append #EXT-X-ENDLIST once (atomically); False when there is no playlist."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return False
    if ENDLIST not in text:
        write_atomic(path, text.rstrip("\n") + "\n" + ENDLIST + "\n")
    return True


def segment_facts(path: str | os.PathLike[str]) -> tuple[int, int, bool]:
    """(width, height, has_audio) of an encoded segment."""
    argv = [FFPROBE, "-v", "error", "-show_entries", "stream=codec_type,width,height"]
    argv += ["-of", "json", os.fspath(path)]
    out = subprocess.run(argv, capture_output=True, timeout=30, check=True).stdout
    streams: list[dict[str, Any]] = json.loads(out).get("streams") or []
    video: dict[str, Any] = next((s for s in streams if s.get("codec_type") == "video"), {})
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    return int(video.get("width") or 0), int(video.get("height") or 0), has_audio


def render_live_master(
    entries: list[tuple[LiveRung, str, int, int]], *, has_audio: bool, fps: int
) -> str:
    """Master playlist from (rung, first segment path, width, height), lowest first."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung, segment, width, height in sorted(entries, key=lambda e: e[0].video_kbps):
        bandwidth = (rung.maxrate_kbps + (rung.audio_kbps if has_audio else 0)) * 1000
        average = (rung.video_kbps + (rung.audio_kbps if has_audio else 0)) * 1000
        codecs = codecs_string(segment, has_audio=has_audio)
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},AVERAGE-BANDWIDTH={average},"
            f'RESOLUTION={width}x{height},FRAME-RATE={fps:.3f},CODECS="{codecs}"'
        )
        lines.append(f"{rung.name}/index.m3u8")
    return "\n".join(lines) + "\n"


def end_folder_playlists(out_dir: str | os.PathLike[str]) -> int:
    """ENDLIST on every rendition playlist of a room folder; returns how many were found.

    For a room that ends while no process holds it (its ingest was killed): what any node
    serves from the folder then tells players the show is over.
    """
    try:
        names = sorted(os.listdir(out_dir))
    except FileNotFoundError:
        return 0
    playlists = [os.path.join(out_dir, name, "index.m3u8") for name in names]
    return sum(end_playlist(path) for path in playlists if os.path.isfile(path))

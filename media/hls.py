"""HLS playlists: reading the ones ffmpeg writes and writing our own master playlist."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

from media.ffrun import FFPROBE

# ISO/IEC 14496-15 avc1 "PPCC" (profile_idc, constraint flags) for the profiles x264 emits.
_AVC_PROFILES = {
    "High": "6400",
    "Main": "4d40",
    "Baseline": "4200",
    "Constrained Baseline": "42e0",
}
AAC_LC = "mp4a.40.2"


@dataclass(frozen=True)
class Segment:
    """One media segment: its URI relative to the playlist and its EXTINF duration."""

    uri: str
    duration_s: float


@dataclass(frozen=True)
class MediaPlaylist:
    """What a player needs from a rendition playlist."""

    target_duration: int
    segments: list[Segment]
    ended: bool
    independent: bool

    @property
    def duration_s(self) -> float:
        """Sum of segment durations."""
        return sum(s.duration_s for s in self.segments)


@dataclass(frozen=True)
class Rendition:
    """One entry of the master playlist; playlist is relative to the output folder."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist: str
    frame_rate: float


def parse_media_playlist(path: str | os.PathLike[str]) -> MediaPlaylist:
    """Parse a VOD rendition playlist; raise ValueError if it is not one."""
    with open(path, encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError(f"{path}: not an M3U8 playlist")
    target = 0
    segments: list[Segment] = []
    pending: float | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            pending = float(line.split(":", 1)[1].split(",", 1)[0])
        elif not line.startswith("#"):
            if pending is None:
                raise ValueError(f"{path}: segment {line!r} without #EXTINF")
            segments.append(Segment(line, pending))
            pending = None
    return MediaPlaylist(
        target_duration=target,
        segments=segments,
        ended="#EXT-X-ENDLIST" in lines,
        independent="#EXT-X-INDEPENDENT-SEGMENTS" in lines,
    )


def parse_master_playlist(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Variant entries of a master playlist: its attributes plus 'uri'."""
    with open(path, encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError(f"{path}: not an M3U8 playlist")
    variants: list[dict[str, str]] = []
    attrs: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = _parse_attributes(line.split(":", 1)[1])
        elif not line.startswith("#") and attrs is not None:
            variants.append({**attrs, "uri": line})
            attrs = None
    return variants


def _parse_attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key, value, quoted, reading_key = "", "", False, True
    for ch in text + ",":
        if reading_key:
            if ch == "=":
                reading_key = False
            else:
                key += ch
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out[key.strip()] = value
            key, value, reading_key = "", "", True
        else:
            value += ch
    return out


def bandwidths(playlist_path: str | os.PathLike[str]) -> tuple[int, int]:
    """(peak, average) bits per second measured from the segment files on disk."""
    playlist = parse_media_playlist(playlist_path)
    folder = os.path.dirname(os.fspath(playlist_path))
    peak = 0.0
    total_bytes = 0
    for seg in playlist.segments:
        size = os.path.getsize(os.path.join(folder, seg.uri))
        total_bytes += size
        if seg.duration_s > 0:
            peak = max(peak, size * 8 / seg.duration_s)
    total_s = playlist.duration_s
    average = total_bytes * 8 / total_s if total_s > 0 else 0.0
    return round(max(peak, average)), round(average)


def codecs_string(segment_path: str | os.PathLike[str], *, has_audio: bool) -> str:
    """RFC 6381 CODECS value read from the encoded segment (profile and level as written)."""
    argv = [
        FFPROBE,
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=profile,level",
        "-of",
        "json",
        os.fspath(segment_path),
    ]
    out = subprocess.run(argv, capture_output=True, timeout=30, check=True).stdout
    stream = (json.loads(out).get("streams") or [{}])[0]
    profile = _AVC_PROFILES.get(str(stream.get("profile")), "6400")
    level = int(stream.get("level") or 31)
    video = f"avc1.{profile}{level:02x}"
    return f"{video},{AAC_LC}" if has_audio else video


def render_master(renditions: list[Rendition]) -> str:
    """Master playlist text listing renditions from lowest to highest bandwidth."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in sorted(renditions, key=lambda r: (r.bandwidth, r.height * r.width)):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},AVERAGE-BANDWIDTH={r.average_bandwidth},"
            f'RESOLUTION={r.width}x{r.height},FRAME-RATE={r.frame_rate:.3f},CODECS="{r.codecs}"'
        )
        lines.append(r.playlist)
    return "\n".join(lines) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Replace a file in one step so a player never reads half a playlist."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".m3u8")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

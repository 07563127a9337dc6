"""Instant playback: a source every browser can decode is segmented as it is, before the ladder.

Copying the H.264 stream into HLS segments takes a fraction of a second for a minute of video,
where encoding even the lowest rung takes seconds (decoding every source frame). The copied
rendition is what a viewer gets until the ladder is done; it is never listed afterwards (a phone
source can carry 15+ Mbit/s), but its files stay so a player that started on it plays to the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

import ffmpeg

from media.commands import AUDIO_RATE, PLAYLIST_NAME, SEGMENT_PATTERN, source_input
from media.ffrun import TranscodeError
from media.hls import Rendition, bandwidths, codecs_string, parse_media_playlist
from media.ladder import output_fps
from media.probe import ProbeResult

INSTANT_NAME = "instant"  # the copied rendition's folder, beside the rungs'
# Profiles and pixel formats that Media Source Extensions and Safari decode everywhere.
PLAYABLE_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})
PLAYABLE_PIX_FMTS = frozenset({"yuv420p", "yuvj420p"})
# Level 4.2 is 1080p60: what phones decode in hardware; 4K sources (5.x) wait for the ladder.
MAX_LEVEL = 42
INSTANT_AUDIO_KBPS = 128


@dataclass(frozen=True)
class InstantPlan:
    """How the source becomes the instant rendition: video copied, audio copied or encoded."""

    audio: Literal["none", "copy", "encode"]


def plan_instant(probe: ProbeResult) -> InstantPlan | None:
    """The copy plan for a source browsers play as it is, or None when it must be encoded first."""
    if probe.video_codec != "h264" or probe.rotation != 0:
        return None  # TS segments drop the rotation a phone stores beside the picture
    if probe.video_profile not in PLAYABLE_PROFILES or probe.pix_fmt not in PLAYABLE_PIX_FMTS:
        return None
    if not 0 < probe.video_level <= MAX_LEVEL or output_fps(probe.fps) is not None:
        return None
    if not probe.has_audio or probe.audio_index is None:
        return InstantPlan(audio="none")
    if probe.audio_codec == "aac" and probe.audio_profile == "LC":
        return InstantPlan(audio="copy")
    return InstantPlan(audio="encode")  # a few hundred ms for a minute of sound


def instant_dir(out_dir: str | os.PathLike[str]) -> str:
    """Folder of the copied rendition inside the output folder."""
    return os.path.join(os.fspath(out_dir), INSTANT_NAME)


def build_instant_hls(
    src_path: str | os.PathLike[str],
    probe: ProbeResult,
    plan: InstantPlan,
    out_dir: str | os.PathLike[str],
    *,
    segment_s: float = 4,
) -> Any:
    """One ffmpeg process segmenting the source's own H.264 into a VOD HLS rendition."""
    inp = source_input(src_path, probe)
    folder = instant_dir(out_dir)
    streams = [inp[str(probe.video_index)]]
    opts: dict[str, Any] = {
        "c:v": "copy",
        "map_metadata": -1,  # phone uploads carry GPS location; never republish it
        "map_chapters": -1,
        "f": "hls",
        "hls_time": f"{segment_s:g}",  # a target: copied segments cut at the source's keyframes
        "hls_playlist_type": "vod",
        "hls_segment_filename": os.path.join(folder, SEGMENT_PATTERN),
    }
    if plan.audio != "none" and probe.audio_index is not None:
        streams.append(inp[str(probe.audio_index)])
        if plan.audio == "copy":
            opts["c:a"] = "copy"
        else:
            opts.update({"c:a": "aac", "b:a": f"{INSTANT_AUDIO_KBPS}k", "ar": AUDIO_RATE, "ac": 2})
    playlist = os.path.join(folder, PLAYLIST_NAME)
    return ffmpeg.output(*streams, playlist, **opts).overwrite_output()


def instant_rendition(out_dir: str, probe: ProbeResult, plan: InstantPlan) -> Rendition:
    """The master playlist entry of the copied rendition, measured from its files."""
    playlist_path = os.path.join(instant_dir(out_dir), PLAYLIST_NAME)
    playlist = parse_media_playlist(playlist_path)
    if not playlist.ended or not playlist.segments:
        raise TranscodeError("instant: incomplete playlist", argv=[], returncode=0, stderr_tail=[])
    peak, average = bandwidths(playlist_path)
    first_segment = os.path.join(instant_dir(out_dir), playlist.segments[0].uri)
    return Rendition(
        name=INSTANT_NAME,
        width=probe.width,
        height=probe.height,
        bandwidth=peak,
        average_bandwidth=average,
        codecs=codecs_string(first_segment, has_audio=plan.audio != "none"),
        playlist=f"{INSTANT_NAME}/{PLAYLIST_NAME}",
        frame_rate=probe.fps,
    )

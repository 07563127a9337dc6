"""ffmpeg-python command builders; every argv is inspectable with `.get_args()`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import ffmpeg

from media.ladder import Rung, force_keyframes_expr, fps_fraction, gop_frames, output_fps
from media.probe import ProbeResult

PLAYLIST_NAME = "index.m3u8"
# ffmpeg's own playlist of a rung published while it encodes (media/progressive.py): hidden.
ENCODING_PLAYLIST_NAME = ".tmp-encoding.m3u8"
SEGMENT_PATTERN = "seg_%05d.ts"
AUDIO_RATE = 48000
SPRITE_TILE_WIDTH = 160
# The preview (media/progressive.py): what a source browsers cannot decode plays as until the
# ladder is done. 1 s segments, so the first is out after a second of video, not four; x264's
# fastest settings with no lookahead, so frames leave the encoder as they arrive; the source's
# loop filter skipped, as its blocking is invisible at 240 lines. Its quality never reaches the
# ladder: the ladder encodes every rung, the lowest included, from the source again.
PREVIEW_NAME = "preview"
PREVIEW_SEGMENT_S = 1.0
PREVIEW_PRESET = "ultrafast"
PREVIEW_TUNE = "zerolatency"
# Its profile and level are set, not left to x264, so its CODECS are known without probing its
# first segment (0.4 s under load): ultrafast uses Constrained Baseline's tools only, and 3.1
# holds any frame 240 lines tall up to 16:1 at 30 fps.
PREVIEW_PROFILE = "baseline"
PREVIEW_LEVEL = "3.1"
PREVIEW_VIDEO_CODECS = "avc1.42e01f"  # Constrained Baseline, level 3.1


def rung_dir(out_dir: str | os.PathLike[str], rung: Rung) -> str:
    """Folder holding one rendition's playlist and segments."""
    return os.path.join(os.fspath(out_dir), rung.name)


def source_input(src_path: str | os.PathLike[str], probe: ProbeResult, **opts: Any) -> Any:
    """Input node pinned to the probed demuxer and to local files only."""
    return ffmpeg.input(
        os.path.abspath(os.fspath(src_path)), f=probe.demuxer, protocol_whitelist="file", **opts
    )


def _video_chain(stream: Any, rung: Rung, probe: ProbeResult) -> Any:
    forced = output_fps(probe.fps)
    if forced is not None:
        stream = stream.filter("fps", fps=str(fps_fraction(forced)))
    return stream.filter("scale", rung.width, rung.height).filter("setsar", 1)


def hls_output_kwargs(
    rung: Rung,
    probe: ProbeResult,
    out_dir: str | os.PathLike[str],
    segment_s: float,
    preset: str,
    growing: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Encoder and HLS muxer options for one rung (GOP aligned to segment boundaries)."""
    fps = output_fps(probe.fps) or probe.fps
    gop = gop_frames(fps, segment_s)
    folder = rung_dir(out_dir, rung)
    opts: dict[str, Any] = {
        "c:v": "libx264",
        "preset": preset,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "b:v": f"{rung.video_kbps}k",
        "maxrate": f"{rung.maxrate_kbps}k",
        "bufsize": f"{rung.bufsize_kbps}k",
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": 0,
        "force_key_frames": force_keyframes_expr(segment_s),
        "map_metadata": -1,  # phone uploads carry GPS location; never republish it
        "map_chapters": -1,
        "f": "hls",
        "hls_time": f"{segment_s:g}",
        # A growing rung needs its playlist after every segment, and whole files (renamed).
        "hls_playlist_type": "event" if growing else "vod",
        "hls_flags": "independent_segments+temp_file" if growing else "independent_segments",
        "hls_segment_filename": os.path.join(folder, SEGMENT_PATTERN),
    }
    opts.update(extra or {})
    if probe.has_audio:
        opts.update({"c:a": "aac", "b:a": f"{rung.audio_kbps}k", "ar": AUDIO_RATE, "ac": 2})
    return opts


def _rung_output(
    video: Any,
    inp: Any,
    rung: Rung,
    probe: ProbeResult,
    out_dir: str | os.PathLike[str],
    segment_s: float,
    preset: str,
    growing: bool,
    extra: dict[str, Any] | None = None,
) -> Any:
    streams = [_video_chain(video, rung, probe)]
    if probe.has_audio and probe.audio_index is not None:
        streams.append(inp[str(probe.audio_index)])
    name = ENCODING_PLAYLIST_NAME if growing else PLAYLIST_NAME
    playlist = os.path.join(rung_dir(out_dir, rung), name)
    kwargs = hls_output_kwargs(rung, probe, out_dir, segment_s, preset, growing, extra)
    return ffmpeg.output(*streams, playlist, **kwargs)


def build_hls(
    src_path: str | os.PathLike[str],
    probe: ProbeResult,
    rungs: Sequence[Rung],
    out_dir: str | os.PathLike[str],
    *,
    segment_s: float = 4,
    preset: str = "veryfast",
    growing: bool = False,
) -> Any:
    """One ffmpeg process encoding the given rungs from a single decode (split filter).

    growing: ffmpeg writes each rung's playlist as it goes, under ENCODING_PLAYLIST_NAME.
    """
    if not rungs:
        raise ValueError("no rungs to encode")
    inp = source_input(src_path, probe)
    video = inp[str(probe.video_index)]
    branches = [video]
    if len(rungs) > 1:
        split = video.split()
        branches = [split[i] for i in range(len(rungs))]
    outputs = [
        _rung_output(branch, inp, rung, probe, out_dir, segment_s, preset, growing)
        for branch, rung in zip(branches, rungs, strict=True)
    ]
    merged = outputs[0] if len(outputs) == 1 else ffmpeg.merge_outputs(*outputs)
    return merged.overwrite_output()


def preview_rung(rung: Rung) -> Rung:
    """The preview's size and bit rates are the lowest rung's; its folder is its own."""
    return replace(rung, name=PREVIEW_NAME)


def build_preview_hls(
    src_path: str | os.PathLike[str],
    probe: ProbeResult,
    lowest: Rung,
    out_dir: str | os.PathLike[str],
) -> Any:
    """One ffmpeg process encoding the preview as a growing rendition (ENCODING_PLAYLIST_NAME)."""
    rung = preview_rung(lowest)
    inp = source_input(src_path, probe, skip_loop_filter="all")
    output = _rung_output(
        inp[str(probe.video_index)],
        inp,
        rung,
        probe,
        out_dir,
        PREVIEW_SEGMENT_S,
        PREVIEW_PRESET,
        growing=True,
        extra={"tune": PREVIEW_TUNE, "profile:v": PREVIEW_PROFILE, "level:v": PREVIEW_LEVEL},
    )
    return output.overwrite_output()


def build_fallback(
    playlist_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *, has_audio: bool
) -> Any:
    """Remux one HLS rendition into a faststart MP4 without re-encoding."""
    inp = ffmpeg.input(os.fspath(playlist_path), f="hls")
    opts: dict[str, Any] = {"c": "copy", "movflags": "+faststart", "f": "mp4"}
    if has_audio:
        opts["bsf:a"] = "aac_adtstoasc"
    return ffmpeg.output(inp, os.fspath(out_path), map=0, **opts).overwrite_output()


def build_poster(
    src_path: str | os.PathLike[str],
    probe: ProbeResult,
    at_s: float,
    out_path: str | os.PathLike[str],
    width: int,
    height: int,
) -> Any:
    """Grab one frame at at_s (input seek, so cheap) scaled to width x height as JPEG."""
    inp = source_input(src_path, probe, ss=f"{max(0.0, at_s):.3f}")
    video = inp[str(probe.video_index)].filter("scale", width, height).filter("setsar", 1)
    return ffmpeg.output(
        video, os.fspath(out_path), f="image2", update=1, **{"frames:v": 1, "q:v": 3}
    ).overwrite_output()


def sprite_geometry(width: int, height: int) -> tuple[int, int]:
    """Tile size for the timeline sprite: 160 px wide, even height keeping the aspect."""
    tile_h = max(2, 2 * round(SPRITE_TILE_WIDTH * height / width / 2))
    return SPRITE_TILE_WIDTH, tile_h


def build_sprite(
    video_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    tiles: int,
    interval_s: float,
    tile_width: int,
    tile_height: int,
    input_format: str | None = None,
) -> Any:
    """One-row strip of `tiles` frames taken mid-interval, each tile_width x tile_height."""
    opts: dict[str, Any] = {"f": input_format} if input_format else {}
    inp = ffmpeg.input(os.fspath(video_path), **opts)
    # Pick the first frame at or after the middle of each interval, in one decode pass.
    pick = f"gte(t,(selected_n+0.5)*{interval_s:.6f})"
    video = (
        inp["v:0"]
        .filter("select", pick)
        .filter("scale", tile_width, tile_height)
        .filter("setsar", 1)
        .filter("tile", f"{tiles}x1")
    )
    return ffmpeg.output(
        video, os.fspath(out_path), f="image2", update=1, **{"frames:v": 1, "q:v": 4}
    ).overwrite_output()

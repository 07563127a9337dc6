"""HLS transcode: playable first (source copied, or lowest rung as it grows), then the ladder."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from media.commands import (
    PLAYLIST_NAME,
    PREVIEW_VIDEO_CODECS,
    build_fallback,
    build_hls,
    build_poster,
    build_preview_hls,
    build_sprite,
    preview_rung,
    rung_dir,
    sprite_geometry,
)
from media.diskspace import space_guard
from media.ffrun import TranscodeError, run_ffmpeg
from media.hls import (
    AAC_LC,
    Rendition,
    bandwidths,
    codecs_string,
    parse_media_playlist,
    render_master,
)
from media.hls import write_atomic as _write_atomic
from media.instant import build_instant_hls, instant_dir, instant_rendition, plan_instant
from media.ladder import Rung, even_floor, output_fps, plan_ladder
from media.probe import ProbeResult, probe_video
from media.progressive import GrowingRendition

__all__ = [
    "X264_PRESETS",
    "Rendition",
    "TranscodeError",
    "TranscodeResult",
    "make_poster",
    "make_sprite",
    "run_ffmpeg",
    "transcode_video",
]

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
MASTER_NAME = "master.m3u8"
FALLBACK_NAME = "fallback.mp4"
POSTER_NAME = "poster.jpg"
SPRITE_NAME = "thumbs.jpg"
# Progress-bar weights only. Fitted on the 60 s 1080p30 bench (veryfast, 2 cores): decoding and
# scaling a source pixel costs ~0.3 of encoding an output pixel; the sprite decodes the lowest
# rung; poster and remux are ~0.3% each.
DECODE_COST = 0.3
SPRITE_COST = 0.3
PREVIEW_COST = 0.5  # ultrafast with no lookahead: about half of veryfast per pixel
# How often the preview's playlist is looked at (ffmpeg's progress reports): a new segment is
# listed within this much of being written, not the 0.5 s ffmpeg reports at by default.
PREVIEW_CHECK_S = 0.1
POSTER_SHARE = 0.005
FALLBACK_SHARE = 0.005


@dataclass(frozen=True)
class TranscodeResult:
    """Everything produced in out_dir; all paths are relative to it, POSIX style."""

    renditions: list[Rendition]
    master: str
    fallback: str
    poster: str
    sprite: str
    sprite_tiles: int
    sprite_interval_s: float
    sprite_tile_width: int
    sprite_tile_height: int
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for job logs


class _Progress:
    """Maps per-stage fractions onto one monotonic 0..1 bar weighted by expected cost."""

    def __init__(self, weights: dict[str, float], sink: Callable[[float], None] | None) -> None:
        total = sum(weights.values()) or 1.0
        self._weights = {k: v / total for k, v in weights.items()}
        self._done = 0.0
        self._last = 0.0
        self._sink = sink

    def stage(self, name: str) -> Callable[[float], None]:
        """Callback for one stage's own 0..1 progress."""
        weight = self._weights.get(name, 0.0)
        base = self._done
        self._done = min(1.0, self._done + weight)
        return lambda frac: self._emit(base + weight * frac)

    def _emit(self, value: float) -> None:
        value = min(1.0, value)
        if self._sink is not None and value > self._last:
            self._last = value
            self._sink(value)

    def finish(self) -> None:
        """Report exactly 1.0 once everything is done."""
        if self._sink is not None and self._last < 1.0:
            self._last = 1.0
            self._sink(1.0)


def _stage_timeout(duration_s: float, timeout_s: float | None) -> float:
    # Roughly ten times slower than real time means the box is wedged, not busy.
    return timeout_s if timeout_s is not None else 120.0 + 10.0 * duration_s


def _rendition(
    out_dir: str, rung: Rung, probe: ProbeResult, *, growing: bool = False, codecs: str = ""
) -> Rendition:
    playlist_path = os.path.join(rung_dir(out_dir, rung), PLAYLIST_NAME)
    playlist = parse_media_playlist(playlist_path)
    if not (playlist.ended or growing) or not playlist.segments:
        raise TranscodeError(
            f"{rung.name}: incomplete playlist", argv=[], returncode=0, stderr_tail=[]
        )
    peak, average = bandwidths(playlist_path)
    first_segment = os.path.join(rung_dir(out_dir, rung), playlist.segments[0].uri)
    return Rendition(
        name=rung.name,
        width=rung.width,
        height=rung.height,
        bandwidth=peak,
        average_bandwidth=average,
        codecs=codecs or codecs_string(first_segment, has_audio=probe.has_audio),
        playlist=f"{rung.name}/{PLAYLIST_NAME}",
        frame_rate=output_fps(probe.fps) or probe.fps,
    )


def default_poster_time(duration_s: float) -> float:
    """1 s in, or 10% of the clip when that is earlier (short clips)."""
    return min(1.0, 0.1 * duration_s)


def default_sprite_tiles(duration_s: float) -> int:
    """About one tile per 2 s, between 4 and 30 tiles."""
    return max(4, min(30, math.ceil(duration_s / 2)))


def make_poster(
    src_path: str | os.PathLike[str],
    at_s: float,
    out_path: str | os.PathLike[str],
    width: int,
    *,
    probe: ProbeResult | None = None,
    timeout_s: float = 60.0,
) -> tuple[int, int]:
    """Write a JPEG of the frame at at_s, width px wide (never upscaled); return its size."""
    info = probe if probe is not None else probe_video(src_path)
    out_w = even_floor(min(width, info.width))
    out_h = max(2, 2 * round(out_w * info.height / info.width / 2))
    # Seeking past the last frame yields no picture at all.
    at = max(0.0, min(at_s, info.duration_s - 0.1))
    stream = build_poster(src_path, info, at, out_path, out_w, out_h)
    run_ffmpeg(stream, duration_s=0.0, on_progress=None, timeout_s=timeout_s)
    if not os.path.exists(out_path):
        raise TranscodeError("poster: no frame written", argv=[], returncode=0, stderr_tail=[])
    return out_w, out_h


def make_sprite(
    video_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    duration_s: float,
    width: int,
    height: int,
    tiles: int,
    input_format: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    timeout_s: float = 120.0,
) -> tuple[int, float, int, int]:
    """Timeline strip of evenly spaced frames; return (tiles, interval_s, tile_w, tile_h)."""
    if tiles < 1:
        raise ValueError("tiles must be >= 1")
    interval = duration_s / tiles
    tile_w, tile_h = sprite_geometry(width, height)
    stream = build_sprite(
        video_path,
        out_path,
        tiles=tiles,
        interval_s=interval,
        tile_width=tile_w,
        tile_height=tile_h,
        input_format=input_format,
    )
    run_ffmpeg(stream, duration_s=duration_s, on_progress=on_progress, timeout_s=timeout_s)
    return tiles, interval, tile_w, tile_h


def _list_files(out_dir: str) -> list[str]:
    found = []
    for root, _dirs, names in os.walk(out_dir):
        for name in names:
            if not name.startswith(".tmp-") and not name.endswith(".tmp"):
                found.append(
                    os.path.relpath(os.path.join(root, name), out_dir).replace(os.sep, "/")
                )
    return sorted(found)


def _stage_weights(probe: ProbeResult, rungs: list[Rung], copying: bool) -> dict[str, float]:
    """Expected cost of each stage; the playable-first stage is the copy or the preview."""
    decode = probe.width * probe.height * DECODE_COST
    first = rungs[0]
    weights = {
        "ladder": decode + sum(r.pixels for r in rungs),
        "sprite": first.pixels * SPRITE_COST,
    }
    if not copying:
        weights["preview"] = decode + first.pixels * PREVIEW_COST
    encode_total = sum(weights.values())
    if copying:  # the copy is nearly free
        weights["instant"] = encode_total * POSTER_SHARE
    weights["poster"] = encode_total * POSTER_SHARE
    weights["fallback"] = encode_total * FALLBACK_SHARE
    return weights


def transcode_video(
    src_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    probe: ProbeResult,
    *,
    segment_s: float = 4,
    preset: str = "veryfast",
    poster_at_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    on_first_playable: Callable[[str, Sequence[Rung]], None] | None = None,
    sprite_tiles: int | None = None,
    timeout_s: float | None = None,
    instant: bool = True,
    on_more_playable: Callable[[str], None] | None = None,
) -> TranscodeResult:
    """Transcode a probed source into HLS + MP4 fallback + poster + sprite in an empty out_dir.

    Playable first: a source browsers decode is copied into HLS (instant rendition), any other
    gets a preview (the lowest rung's size, encoded fast, 1 s segments) announced after its
    first segment; on_first_playable runs with the master listing it, on_more_playable each time
    the preview's playlist grows. Then one decode feeds the whole ladder.
    """
    if preset not in X264_PRESETS:
        raise ValueError(f"unknown x264 preset {preset!r}")
    if not 0.5 <= segment_s <= 20:
        raise ValueError("segment_s must be between 0.5 and 20 seconds")
    out = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out, exist_ok=True)
    if os.listdir(out):
        raise ValueError(f"output folder {out} is not empty")
    src = os.path.abspath(os.fspath(src_path))
    rungs = plan_ladder(probe.width, probe.height)
    first = rungs[0]
    for rung in rungs:
        os.makedirs(rung_dir(out, rung), exist_ok=True)
    plan = plan_instant(probe) if instant else None
    # Stages must be opened in the order they run.
    progress = _Progress(_stage_weights(probe, rungs, plan is not None), on_progress)
    duration, stage_timeout = probe.duration_s, _stage_timeout(probe.duration_s, timeout_s)
    timings: dict[str, float] = {}
    started = clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = now - clock
        clock = now

    def encode(stage: str, chosen: list[Rung]) -> list[Rendition]:
        command = build_hls(src, probe, chosen, out, segment_s=segment_s, preset=preset)
        run_ffmpeg(
            command, on_progress=progress.stage(stage), duration_s=duration, timeout_s=stage_timeout
        )
        return [_rendition(out, rung, probe) for rung in chosen]

    def announce(playable: list[Rendition]) -> None:
        _write_atomic(os.path.join(out, MASTER_NAME), render_master(playable))
        timings["first_playable"] = time.monotonic() - started
        if on_first_playable is not None:
            on_first_playable(out, [])  # no rung of the ladder exists yet

    def encode_preview() -> list[Rendition]:
        """The preview, announced once its first segment exists (media/progressive.py)."""
        preview = preview_rung(first)
        codecs = f"{PREVIEW_VIDEO_CODECS},{AAC_LC}" if probe.has_audio else PREVIEW_VIDEO_CODECS
        os.makedirs(rung_dir(out, preview))
        growing = GrowingRendition(rung_dir(out, preview))
        report = progress.stage("preview")

        def on_stage_progress(fraction: float) -> None:
            # The playlist first: reporting progress may wait on a database commit.
            if growing.refresh():
                if "first_playable" not in timings:
                    announce([_rendition(out, preview, probe, growing=True, codecs=codecs)])
                elif on_more_playable is not None:
                    on_more_playable(out)
            report(fraction)

        run_ffmpeg(
            build_preview_hls(src, probe, first, out),
            on_progress=on_stage_progress,
            progress_period_s=PREVIEW_CHECK_S,
            # Un-niced until its first segment is out (~1 s of CPU), then niced like the rest.
            urgent_until=lambda: "first_playable" in timings,
            duration_s=duration,
            timeout_s=stage_timeout,
        )
        growing.finish()
        return [_rendition(out, preview, probe, codecs=codecs)]

    with space_guard(out):
        if plan is not None:
            os.makedirs(instant_dir(out))
            copy = build_instant_hls(src, probe, plan, out, segment_s=segment_s)
            run_ffmpeg(
                copy,
                on_progress=progress.stage("instant"),
                duration_s=duration,
                timeout_s=stage_timeout,
            )
            playable_now = [instant_rendition(out, probe, plan)]
            lap("instant")
        else:
            playable_now = encode_preview()
            lap("preview")
        if "first_playable" not in timings:
            announce(playable_now)
        else:  # announced while encoding: now the ended playlist and exact bandwidths
            _write_atomic(os.path.join(out, MASTER_NAME), render_master(playable_now))
            if on_more_playable is not None:
                on_more_playable(out)
    clock = time.monotonic()  # the callback's own time (e.g. an upload) is not ours

    with space_guard(out):  # what fails or is cut short on a full disk says so
        top = rungs[-1]
        poster_at = default_poster_time(probe.duration_s) if poster_at_s is None else poster_at_s
        make_poster(src, poster_at, os.path.join(out, POSTER_NAME), top.width, probe=probe)
        progress.stage("poster")(1.0)
        lap("poster")
        renditions = encode("ladder", rungs)
        lap("ladder")
        tiles = sprite_tiles if sprite_tiles is not None else default_sprite_tiles(probe.duration_s)
        sprite = make_sprite(
            os.path.join(rung_dir(out, first), PLAYLIST_NAME),
            os.path.join(out, SPRITE_NAME),
            duration_s=probe.duration_s,
            width=first.width,
            height=first.height,
            tiles=tiles,
            input_format="hls",
            on_progress=progress.stage("sprite"),
            timeout_s=stage_timeout,
        )
        lap("sprite")
        # Neither the copy nor the preview is listed in the final master; their files stay,
        # so a player that started on one plays it to the end (see media/instant.py).
        _write_atomic(os.path.join(out, MASTER_NAME), render_master(renditions))

        fallback = build_fallback(
            os.path.join(rung_dir(out, top), PLAYLIST_NAME),
            os.path.join(out, FALLBACK_NAME),
            has_audio=probe.has_audio,
        )
        run_ffmpeg(
            fallback,
            on_progress=progress.stage("fallback"),
            duration_s=duration,
            timeout_s=stage_timeout,
        )
        lap("fallback")
    timings["total"] = sum(v for k, v in timings.items() if k != "first_playable")
    progress.finish()
    return TranscodeResult(
        renditions=renditions,
        master=MASTER_NAME,
        fallback=FALLBACK_NAME,
        poster=POSTER_NAME,
        sprite=SPRITE_NAME,
        sprite_tiles=sprite[0],
        sprite_interval_s=sprite[1],
        sprite_tile_width=sprite[2],
        sprite_tile_height=sprite[3],
        files=_list_files(out),
        timings=timings,
    )

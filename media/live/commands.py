"""Live transcode argv: one ingest (FLV/WebM/fMP4 on stdin) to a low-latency HLS ladder,
a recording part and an FLV low-latency feed on stdout, from a single decode."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from media.ffrun import FFMPEG
from media.ladder import force_keyframes_expr, gop_frames

Container = Literal["flv", "webm", "mp4"]
PLAYLIST_NAME = "index.m3u8"
MASTER_NAME = "master.m3u8"
SEGMENT_PATTERN = "seg_%05d.ts"
RECORDING_DIR = "recording"
AUDIO_RATE = 48000
# ffmpeg demuxer for each ingest container (MediaRecorder WebM is Matroska).
DEMUXERS: dict[str, str] = {"flv": "flv", "webm": "matroska", "mp4": "mp4"}


@dataclass(frozen=True)
class LiveRung:
    """One live rendition, sized by its short side; never upscaled at run time."""

    name: str
    short_side: int
    video_kbps: int
    audio_kbps: int

    @property
    def maxrate_kbps(self) -> int:
        """VBV peak: 10% over the target, like the VOD ladder."""
        return round(self.video_kbps * 1.1)

    @property
    def bufsize_kbps(self) -> int:
        """One second of VBV buffer keeps the rate even inside short live segments."""
        return self.video_kbps


DEFAULT_RUNGS: tuple[LiveRung, ...] = (
    LiveRung("720p", 720, 2500, 128),
    LiveRung("360p", 360, 800, 96),
)


@dataclass(frozen=True)
class LiveOptions:
    """Encoding and packaging knobs shared by every room of a hub."""

    segment_s: float = 1.0
    fps: int = 30
    preset: str = "veryfast"
    list_size: int = 6
    rungs: tuple[LiveRung, ...] = DEFAULT_RUNGS

    def __post_init__(self) -> None:
        if not 0.5 <= self.segment_s <= 10:
            raise ValueError("segment_s must be between 0.5 and 10 seconds")
        if not 1 <= self.fps <= 60:
            raise ValueError("fps must be between 1 and 60")
        if self.list_size < 3:
            raise ValueError("list_size must be at least 3 (players start 3 segments back)")
        if not self.rungs:
            raise ValueError("at least one rung is needed")
        names = [r.name for r in self.rungs]
        if len(set(names)) != len(names) or not all(n.isalnum() for n in names):
            raise ValueError("rung names must be unique and alphanumeric")

    @property
    def gop(self) -> int:
        """Frames per GOP: exactly one GOP per segment."""
        return gop_frames(self.fps, self.segment_s)


def scale_expr(short_side: int) -> str:
    """scale filter args giving an even size whose short side is at most short_side."""
    factor = f"min(1\\,{short_side}/min(iw\\,ih))"
    return f"w=trunc(iw*{factor}/2)*2:h=trunc(ih*{factor}/2)*2"


def hls_muxer_options(
    playlist_dir: str, options: LiveOptions, *, resume: bool
) -> list[tuple[str, str]]:
    """HLS muxer options for a sliding live playlist; `resume` appends to the existing one."""
    flags = [
        "delete_segments",
        "independent_segments",
        "program_date_time",
        "temp_file",  # segments appear under their name only once complete
        "omit_endlist",  # a dropped ingest is not the end: the room decides when to end
    ]
    if resume:
        flags.append("append_list")  # same playlist, EXT-X-DISCONTINUITY, sequence continues
    return [
        ("hls_time", f"{options.segment_s:g}"),
        ("hls_list_size", str(options.list_size)),
        ("hls_delete_threshold", "2"),
        ("hls_flags", "+".join(flags)),
        ("hls_segment_type", "mpegts"),
        ("hls_segment_filename", os.path.join(playlist_dir, SEGMENT_PATTERN)),
    ]


def _encoder_args(index: int, rung: LiveRung, options: LiveOptions, has_audio: bool) -> list[str]:
    gop = str(options.gop)
    args = [
        "-map", f"[v{index}]",
        *(["-map", "0:a:0?"] if has_audio else []),
        "-c:v", "libx264",
        "-preset", options.preset,
        "-tune", "zerolatency",
        "-profile:v", "high",
        "-pix_fmt", "yuv420p",
        "-b:v", f"{rung.video_kbps}k",
        "-maxrate", f"{rung.maxrate_kbps}k",
        "-bufsize", f"{rung.bufsize_kbps}k",
        "-g", gop,
        "-keyint_min", gop,
        "-sc_threshold", "0",
        "-force_key_frames", force_keyframes_expr(options.segment_s),
        "-flags:v", "+global_header",
    ]  # fmt: skip
    if has_audio:
        args += [
            "-c:a", "aac",
            "-b:a", f"{rung.audio_kbps}k",
            "-ar", str(AUDIO_RATE),
            "-ac", "2",
            "-flags:a", "+global_header",
        ]  # fmt: skip
    return args


def _tee_escape(value: str) -> str:
    # Tee slave options are ':'-separated inside [...]; escape the characters it splits on.
    for ch in ("\\", ":", "|", "[", "]"):
        value = value.replace(ch, "\\" + ch)
    return value


def build_live_argv(
    out_dir: str | os.PathLike[str],
    *,
    container: Container,
    part: int,
    options: LiveOptions,
    has_audio: bool = True,
    low_latency: bool = True,
) -> list[str]:
    """ffmpeg argv reading one ingest connection on stdin (part >= 1; part > 1 resumes).

    The top rung is encoded once and fanned out by the tee muxer to its HLS playlist, the
    recording part `recording/part_NNNN.ts` and (low_latency) an FLV stream on stdout.
    """
    if container not in DEMUXERS:
        raise ValueError(f"unsupported ingest container {container!r}")
    if part < 1:
        raise ValueError("part numbers start at 1")
    out = os.path.abspath(os.fspath(out_dir))
    rungs = options.rungs
    split = f"split={len(rungs)}" + "".join(f"[s{i}]" for i in range(len(rungs)))
    chains = [f"[0:v:0]fps={options.fps},{split}"]
    chains += [
        f"[s{i}]scale={scale_expr(r.short_side)},setsar=1[v{i}]" for i, r in enumerate(rungs)
    ]
    argv = [
        FFMPEG, "-hide_banner", "-nostats", "-loglevel", "warning",
        # No "-fflags +nobuffer": it drops the packets read while probing, and with them the
        # first keyframe (a browser's MediaRecorder sends the next one seconds later).
        "-probesize", "500000",
        "-analyzeduration", "1000000",
        "-f", DEMUXERS[container],
        "-threads", "1",  # frame-threaded decoding would hold frames back
        "-i", "pipe:0",
        "-filter_complex", ";".join(chains),
    ]  # fmt: skip
    for i, rung in enumerate(rungs):
        playlist_dir = os.path.join(out, rung.name)
        hls = hls_muxer_options(playlist_dir, options, resume=part > 1)
        playlist = os.path.join(playlist_dir, PLAYLIST_NAME)
        argv += _encoder_args(i, rung, options, has_audio)
        if i > 0:
            for key, value in hls:
                argv += [f"-{key}", value]
            argv += ["-f", "hls", playlist]
            continue
        slaves = ["[f=hls:" + ":".join(f"{k}={_tee_escape(v)}" for k, v in hls) + "]" + playlist]
        recording = os.path.join(out, RECORDING_DIR, f"part_{part:04d}.ts")
        slaves.append(f"[f=mpegts]{recording}")
        if low_latency:
            slaves.append("[f=flv:flvflags=no_duration_filesize:onfail=ignore]pipe\\:1")
        # Hand every packet to the FLV pipe and the segment files at once, not per 32 KiB.
        argv += ["-flush_packets", "1", "-f", "tee", "|".join(slaves)]
    return argv


def build_concat_argv(
    parts: Sequence[str], list_path: str, out_path: str, *, has_audio: bool = True
) -> list[str]:
    """Remux the recording parts, in order, into one faststart MP4 (no re-encode)."""
    if not parts:
        raise ValueError("no recording parts")
    with open(list_path, "w", encoding="utf-8") as fh:
        for part in parts:
            fh.write("file '" + os.path.abspath(part).replace("'", "'\\''") + "'\n")
    argv = [
        FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "warning",
        "-f", "concat", "-safe", "0", "-i", list_path,
        "-map", "0", "-c", "copy", "-movflags", "+faststart",
    ]  # fmt: skip
    if has_audio:
        argv += ["-bsf:a", "aac_adtstoasc"]
    return [*argv, "-f", "mp4", "-y", out_path]

"""Validate uploads by content with ffprobe, never by file name or claimed type."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ffmpeg

from media.ffrun import FFMPEG, FFPROBE, PROGRESS_ARGS, niced

PROBE_TIMEOUT_S = 20.0
TAIL_CHECK_TIMEOUT_S = 30.0
# Container demuxers we transcode from; anything else (HLS, concat, raw streams...) is refused
# so a crafted playlist cannot make ffmpeg read other files.
ALLOWED_DEMUXERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mov",
    "matroska,webm": "matroska",
    "avi": "avi",
    "flv": "flv",
    "mpegts": "mpegts",
    "mpeg": "mpeg",
}
STILL_IMAGE_CODECS = {"png", "mjpeg", "bmp", "webp", "tiff", "gif", "jpeg2000", "jpegls"}
# A faststart MP4 whose sample tables promise more bytes than the file holds was cut short.
SIZE_SHORTFALL_RATIO = 0.9


class InvalidMedia(ValueError):
    """The upload is not a usable video; `code` says why, str() is a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ProbeResult:
    """Facts about a valid video; width/height are the display size after rotation."""

    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    rotation: int
    demuxer: str = "mov"
    video_index: int = 0
    audio_index: int | None = None
    # What decides whether the source can be played as it is (media/instant.py).
    pix_fmt: str = ""
    video_profile: str = ""
    video_level: int = 0
    audio_codec: str = ""
    audio_profile: str = ""


def _looks_like_container(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return True
    if head[:4] == b"\x1a\x45\xdf\xa3" or head[:3] == b"FLV":
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return len(head) > 188 and head[0] == 0x47 and head[188] == 0x47


def ffprobe_json(path: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """`ffmpeg.probe` equivalent with a timeout and local files only; raises InvalidMedia."""
    # ffmpeg-python 0.2.0's probe() waits forever, so the same argv is run with a timeout.
    argv = [
        FFPROBE,
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-show_format",
        "-show_streams",
        "-of",
        "json",
        path,
    ]
    try:
        # Not niced: reading headers is milliseconds of work, and a viewer waits on it; under
        # load a niced ffprobe waited up to 0.9 s for the CPU. The tail decode stays niced.
        proc = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidMedia("corrupt", "The file took too long to analyse.") from exc
    if proc.returncode != 0:
        if _looks_like_container(path):
            raise InvalidMedia(
                "corrupt", "The video file is damaged or incomplete; please upload it again."
            )
        raise InvalidMedia("not_media", "This file is not a video we can read.")
    data: dict[str, Any] = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    return data


def _num(value: Any, default: float = 0.0) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _rate(value: Any) -> float:
    try:
        frac = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(frac) if frac > 0 else 0.0


def _rotation(stream: dict[str, Any]) -> int:
    # ffprobe reports the display matrix counter-clockwise; we store clockwise degrees.
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(-_num(side["rotation"])) % 360
    return round(_num((stream.get("tags") or {}).get("rotate"))) % 360


def _display_size(stream: dict[str, Any], rotation: int) -> tuple[int, int]:
    width, height = int(_num(stream.get("width"))), int(_num(stream.get("height")))
    sar = str(stream.get("sample_aspect_ratio") or "1:1").replace(":", "/")
    try:
        ratio = Fraction(sar)
    except (ValueError, ZeroDivisionError):
        ratio = Fraction(1)
    if ratio > 0 and ratio != 1:
        width = round(width * ratio)
    if rotation in (90, 270):
        width, height = height, width
    return width, height


def _is_still(fmt_name: str, stream: dict[str, Any]) -> bool:
    if fmt_name == "image2" or fmt_name.endswith("_pipe"):
        return True
    frames = int(_num(stream.get("nb_frames"), -1))
    return stream.get("codec_name") in STILL_IMAGE_CODECS and frames in (-1, 0, 1)


def _size_shortfall(data: dict[str, Any], size: int) -> bool:
    expected = 0.0
    for stream in data.get("streams") or []:
        expected += _num(stream.get("bit_rate")) * _num(stream.get("duration")) / 8
    return expected > 0 and size < expected * SIZE_SHORTFALL_RATIO


def build_tail_check(path: str, demuxer: str, video_index: int, end_s: float) -> Any:
    """ffmpeg-python command decoding only the last second of video to a null sink."""
    inp = ffmpeg.input(
        path, ss=f"{max(0.0, end_s - 1.0):.3f}", f=demuxer, protocol_whitelist="file"
    )
    return inp[str(video_index)].output("-", f="null")


def _tail_decodes(path: str, demuxer: str, video_index: int, end_s: float) -> bool:
    """Decode the last second of video: cut-off files have no frames there or report it."""
    stream = build_tail_check(path, demuxer, video_index, end_s)
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", *PROGRESS_ARGS, *stream.get_args()]
    try:
        proc = subprocess.run(
            niced(argv), capture_output=True, timeout=TAIL_CHECK_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0 or "partial file" in err or "ended prematurely" in err:
        return False
    out = proc.stdout.decode("ascii", "replace").splitlines()
    frames = [ln for ln in out if ln[:6] == "frame="]
    return bool(frames) and _num(frames[-1][6:]) > 0


def probe_video(
    path: str | os.PathLike[str],
    *,
    max_duration_s: float = 600,
    min_duration_s: float = 0.5,
    check_end: bool = True,
) -> ProbeResult:
    """Probe an uploaded file and return its facts, or raise InvalidMedia with a reason code.

    check_end=False skips decoding the file's last second (most of the probe's time on a source
    with long GOPs: up to 2 s under load), for a file already probed whole when it was stored.
    """
    # Absolute paths cannot be mistaken for options or protocol URLs by ffmpeg.
    abspath = os.path.abspath(os.fspath(path))
    if os.path.getsize(abspath) == 0:
        raise InvalidMedia("not_media", "The file is empty.")
    data = ffprobe_json(abspath)
    fmt = data.get("format") or {}
    fmt_name = str(fmt.get("format_name") or "")
    streams = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if videos and _is_still(fmt_name, videos[0]):
        raise InvalidMedia("no_video", "This is a still image, not a video.")
    duration = _num(fmt.get("duration")) or (_num(videos[0].get("duration")) if videos else 0.0)
    if duration <= 0 and (videos or not audios):
        raise InvalidMedia("too_short", "The video is empty (zero duration).")
    if not videos:
        raise InvalidMedia("no_video", "The file has no video track (audio only?).")
    demuxer = ALLOWED_DEMUXERS.get(fmt_name)
    if demuxer is None:
        raise InvalidMedia("not_media", f"Unsupported file format ({fmt_name or 'unknown'}).")
    if duration < min_duration_s:
        raise InvalidMedia("too_short", f"The video is too short (minimum {min_duration_s:g} s).")
    if duration > max_duration_s:
        raise InvalidMedia(
            "too_long",
            f"The video is {duration:.0f} s long; the limit is {max_duration_s:.0f} s.",
        )
    video = videos[0]
    rotation = _rotation(video)
    width, height = _display_size(video, rotation)
    if width < 2 or height < 2:
        raise InvalidMedia("corrupt", "The video has no usable picture size.")
    size = os.path.getsize(abspath)
    video_end = _num(video.get("duration")) or duration
    if (demuxer == "mov" and _size_shortfall(data, size)) or (
        check_end and not _tail_decodes(abspath, demuxer, int(video.get("index", 0)), video_end)
    ):
        raise InvalidMedia(
            "corrupt", "The video file is incomplete (upload cut short?); please upload it again."
        )
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    return ProbeResult(
        duration_s=duration,
        width=width,
        height=height,
        fps=fps,
        video_codec=str(video.get("codec_name") or ""),
        has_audio=bool(audios),
        rotation=rotation,
        demuxer=demuxer,
        video_index=int(video.get("index", 0)),
        audio_index=int(audios[0].get("index", 0)) if audios else None,
        pix_fmt=str(video.get("pix_fmt") or ""),
        video_profile=str(video.get("profile") or ""),
        video_level=int(_num(video.get("level"))),
        audio_codec=str(audios[0].get("codec_name") or "") if audios else "",
        audio_profile=str(audios[0].get("profile") or "") if audios else "",
    )

"""Synthetic clips for demo content and tests, plus deliberately broken files."""

from __future__ import annotations

import os
import re
import shutil

import ffmpeg

from media.ffrun import run_ffmpeg

LABEL_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9 ._-]")
_COLOUR = re.compile(r"0x[0-9a-fA-F]{6}")
_TIMEOUT_S = 300.0


def safe_label(label: str) -> str:
    """Keep only characters that cannot break out of a drawtext argument."""
    return _LABEL_UNSAFE.sub("", label)[:64].strip()


def generate_clip(
    path: str | os.PathLike[str],
    *,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 30,
    audio: bool = True,
    label: str | None = None,
    faststart: bool = True,
    preset: str = "ultrafast",
    colours: tuple[str, str] | None = None,
) -> str:
    """Write an H.264/AAC MP4 (testsrc2, or a moving gradient of two colours, + a sine tone)."""
    out = os.path.abspath(os.fspath(path))
    size = f"{int(width)}x{int(height)}"
    if colours is not None:
        first, second = (c if _COLOUR.fullmatch(c) else "black" for c in colours)
        source = f"gradients=s={size}:r={int(fps)}:c0={first}:c1={second}:speed=0.02"
    else:
        source = f"testsrc2=size={size}:rate={int(fps)}"
    video = ffmpeg.input(source, f="lavfi")
    stream = video.video
    text = safe_label(label) if label else ""
    if text and os.path.exists(LABEL_FONT):
        stream = stream.filter(
            "drawtext",
            fontfile=LABEL_FONT,
            text=text,
            fontsize=max(12, min(width, height) // 10),
            fontcolor="white",
            box=1,
            boxcolor="black@0.5",
            boxborderw=max(4, min(width, height) // 60),
            x="(w-text_w)/2",
            y="h-text_h-20" if colours is None else "(h-text_h)/3",
        )
    streams = [stream]
    opts: dict[str, object] = {
        "t": f"{duration_s:.3f}",
        "c:v": "libx264",
        "preset": preset,
        "pix_fmt": "yuv420p",
        "g": int(fps),
    }
    if audio:
        tone = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi")
        streams.append(tone.audio)
        opts.update({"c:a": "aac", "b:a": "96k", "ac": 2})
    if faststart:
        opts["movflags"] = "+faststart"
    cmd = ffmpeg.output(*streams, out, f="mp4", **opts).overwrite_output()
    run_ffmpeg(cmd, duration_s=duration_s, timeout_s=_TIMEOUT_S)
    return out


def generate_audio_only(path: str | os.PathLike[str], *, duration_s: float = 2.0) -> str:
    """Write an AAC-only .m4a (an audio upload posing as a video)."""
    out = os.path.abspath(os.fspath(path))
    tone = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi")
    cmd = ffmpeg.output(
        tone.audio, out, f="mp4", t=f"{duration_s:.3f}", **{"c:a": "aac"}
    ).overwrite_output()
    run_ffmpeg(cmd, duration_s=duration_s, timeout_s=_TIMEOUT_S)
    return out


def generate_still(path: str | os.PathLike[str], *, width: int = 320, height: int = 240) -> str:
    """Write a single PNG or JPEG frame (format from the extension)."""
    out = os.path.abspath(os.fspath(path))
    src = ffmpeg.input(f"testsrc2=size={int(width)}x{int(height)}", f="lavfi")
    cmd = ffmpeg.output(src, out, f="image2", update=1, **{"frames:v": 1}).overwrite_output()
    run_ffmpeg(cmd, duration_s=0.0, timeout_s=_TIMEOUT_S)
    return out


def truncate_file(
    path: str | os.PathLike[str], out: str | os.PathLike[str], fraction: float
) -> str:
    """Copy the first `fraction` of a file's bytes, like an interrupted upload."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within 0..1")
    keep = int(os.path.getsize(path) * fraction)
    with open(path, "rb") as src, open(out, "wb") as dst:
        remaining = keep
        while remaining > 0:
            chunk = src.read(min(remaining, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)
    return os.fspath(out)


def copy_as(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> str:
    """Copy a file under another name (e.g. text renamed .mp4)."""
    shutil.copyfile(path, out)
    return os.fspath(out)

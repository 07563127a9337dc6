"""Pure rules for the HLS bitrate ladder and keyframe cadence."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

# (short side, video kbps, audio kbps). Sized for H.264 short-form phone video at <=30 fps.
STANDARD_RUNGS: tuple[tuple[int, int, int], ...] = (
    (240, 400, 64),
    (480, 1000, 96),
    (720, 2500, 128),
)
# A source this much taller than the top standard rung it reaches also gets a rung at its own
# size, so a 360p upload is not capped at 240p for every viewer.
NATIVE_RUNG_RATIO = 1.25
MIN_VIDEO_KBPS = 150
MAXRATE_FACTOR = 1.1
BUFSIZE_FACTOR = 2.0
MAX_FPS = 60.0
FALLBACK_FPS = 30.0


@dataclass(frozen=True)
class Rung:
    """One rendition of the ladder; width/height are the output frame size."""

    name: str
    height: int
    width: int
    video_kbps: int
    maxrate_kbps: int
    bufsize_kbps: int
    audio_kbps: int

    @property
    def short_side(self) -> int:
        """The smaller of width and height (the number in the rung name)."""
        return min(self.width, self.height)

    @property
    def pixels(self) -> int:
        """Pixels per frame, used to weigh encode cost."""
        return self.width * self.height


def even_floor(value: float) -> int:
    """Largest even integer <= value, at least 2 (x264 needs even yuv420p sizes)."""
    return max(2, math.floor(value / 2) * 2)


def scaled_size(width: int, height: int, short_target: int) -> tuple[int, int]:
    """Even output size whose short side is short_target, aspect preserved, never upscaled."""
    if width <= 0 or height <= 0:
        raise ValueError(f"invalid frame size {width}x{height}")
    short, long_ = min(width, height), max(width, height)
    short_out = min(even_floor(short_target), even_floor(short))
    long_out = 2 * round(long_ * short_out / short / 2)
    long_out = max(2, min(long_out, even_floor(long_)))
    if width <= height:
        return short_out, long_out
    return long_out, short_out


def _video_kbps_for(short: int) -> int:
    # Piecewise-linear between the standard rungs; below the first, proportional to pixel count.
    first_short, first_kbps, _ = STANDARD_RUNGS[0]
    if short <= first_short:
        return max(MIN_VIDEO_KBPS, round(first_kbps * (short / first_short) ** 2))
    for (s0, k0, _), (s1, k1, _) in itertools.pairwise(STANDARD_RUNGS):
        if short <= s1:
            return round(k0 + (k1 - k0) * (short - s0) / (s1 - s0))
    return STANDARD_RUNGS[-1][1]


def _audio_kbps_for(short: int) -> int:
    kbps = STANDARD_RUNGS[0][2]
    for s, _, a in STANDARD_RUNGS:
        if short >= s:
            kbps = a
    return kbps


def _rung(width: int, height: int, short_target: int, video_kbps: int | None = None) -> Rung:
    out_w, out_h = scaled_size(width, height, short_target)
    short = min(out_w, out_h)
    kbps = video_kbps if video_kbps is not None else _video_kbps_for(short)
    return Rung(
        name=f"{short}p",
        height=out_h,
        width=out_w,
        video_kbps=kbps,
        maxrate_kbps=round(kbps * MAXRATE_FACTOR),
        bufsize_kbps=round(kbps * BUFSIZE_FACTOR),
        audio_kbps=_audio_kbps_for(short),
    )


def plan_ladder(width: int, height: int) -> list[Rung]:
    """Rungs for a source of this display size, lowest first, scaled by the short side."""
    short = min(width, height)
    if width <= 0 or height <= 0:
        raise ValueError(f"invalid frame size {width}x{height}")
    standard = [(s, k) for s, k, _ in STANDARD_RUNGS if s <= short]
    if not standard:
        return [_rung(width, height, short)]
    rungs = [_rung(width, height, s, k) for s, k in standard]
    top = standard[-1][0]
    if top < STANDARD_RUNGS[-1][0] and short >= top * NATIVE_RUNG_RATIO:
        rungs.append(_rung(width, height, short))
    return rungs


def output_fps(source_fps: float) -> float | None:
    """Frame rate to force on the output, or None to keep the source's."""
    if source_fps <= 0 or not math.isfinite(source_fps):
        return FALLBACK_FPS
    if source_fps > MAX_FPS + 0.5:
        return FALLBACK_FPS
    return None


def fps_fraction(fps: float) -> Fraction:
    """Rational frame rate close to fps (29.97 becomes 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)


def gop_frames(fps: float, segment_s: float) -> int:
    """Fixed GOP length in frames so every segment starts on a keyframe."""
    return max(1, round(fps * segment_s))


def force_keyframes_expr(segment_s: float) -> str:
    """x264 keyframe expression placing an IDR at every segment boundary by time."""
    return f"expr:gte(t,n_forced*{segment_s:g})"

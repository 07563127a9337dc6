"""run_ffmpeg: progress parsing, errors with stderr, and the hard timeout."""

from __future__ import annotations

import time

import ffmpeg
import pytest

from media.ffrun import TranscodeError, parse_progress_line, run_ffmpeg


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("out_time_us=1500000\n", 0.5),
        ("out_time_us=N/A", None),
        ("out_time_us=9000000", 1.0),
        ("out_time_us=-5", 0.0),
        ("frame=12", None),
        ("progress=continue", None),
        ("progress=end", 1.0),
    ],
)
def test_parse_progress_line(line: str, expected: float | None) -> None:
    assert parse_progress_line(line, 3.0) == expected


def test_parse_progress_without_duration() -> None:
    assert parse_progress_line("out_time_us=1000", 0.0) is None


@pytest.mark.ffmpeg
def test_progress_is_monotonic_and_ends_at_one() -> None:
    src = ffmpeg.input("testsrc2=size=320x240:rate=30:duration=2", f="lavfi")
    seen: list[float] = []
    run_ffmpeg(src.output("-", f="null"), duration_s=2.0, on_progress=seen.append, timeout_s=60)
    assert seen and seen[-1] == 1.0
    assert seen == sorted(seen) and all(0.0 <= f <= 1.0 for f in seen)


@pytest.mark.ffmpeg
def test_failure_carries_stderr_tail(tmp_path) -> None:
    stream = ffmpeg.input(str(tmp_path / "missing.mp4")).output(str(tmp_path / "x.mp4"))
    with pytest.raises(TranscodeError) as info:
        run_ffmpeg(stream, duration_s=1.0, on_progress=None, timeout_s=30)
    assert info.value.returncode not in (0, None)
    assert "No such file" in str(info.value)
    assert any("missing.mp4" in line for line in info.value.stderr_tail)
    assert info.value.argv[:3] == ["/usr/bin/nice", "-n", "10"] or "nice" in info.value.argv[0]


@pytest.mark.ffmpeg
def test_timeout_kills_ffmpeg() -> None:
    endless = ffmpeg.input("testsrc2=size=64x64:rate=10", f="lavfi", re=None).output("-", f="null")
    started = time.monotonic()
    with pytest.raises(TranscodeError, match="timed out"):
        run_ffmpeg(endless, duration_s=100.0, on_progress=None, timeout_s=1.0)
    assert time.monotonic() - started < 5

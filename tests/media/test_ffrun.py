"""run_ffmpeg: progress parsing, errors with stderr, and the hard timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

import ffmpeg
import pytest

from media.ffrun import NICE_LEVEL, TranscodeError, parse_progress_line, run_ffmpeg


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


def _child_thread_nices() -> list[int]:
    """Niceness of every thread of this process's ffmpeg children (Linux /proc)."""
    nices = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if "(ffmpeg)" not in stat or int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
            for tid in os.listdir(f"/proc/{pid}/task"):
                fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                nices.append(int(fields[16]))  # field 19 of stat, counted after the name
        except OSError:
            continue
    return nices


@pytest.mark.ffmpeg
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="Linux /proc")
def test_urgent_run_is_niced_once_it_says_so() -> None:
    src = ffmpeg.input("testsrc2=size=320x240:rate=30:duration=3", f="lavfi", re=None)
    stream = src.output("-", f="null", threads=2)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[list[int]] = []
    calls = {"n": 0}

    def urgent_done() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    def on_progress(_fraction: float) -> None:
        seen.append(_child_thread_nices())

    run_ffmpeg(
        stream,
        duration_s=3.0,
        on_progress=on_progress,
        timeout_s=60,
        progress_period_s=0.1,
        urgent_until=urgent_done,
    )
    assert seen[0] and set(seen[0]) == {own}, "started at the caller's own priority"
    later = [nices for nices in seen[3:] if nices]
    assert later and all(set(n) == {max(own, NICE_LEVEL)} for n in later), "every thread niced"

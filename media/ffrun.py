"""Running ffmpeg: niced, with progress parsing, a hard timeout and useful errors."""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

FFMPEG = os.environ.get("MEDIA_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("MEDIA_FFPROBE", "ffprobe")
# Live ingest must win the CPU; MEDIA_FFMPEG_NICE=0 disables this on dedicated transcode boxes.
NICE_LEVEL = int(os.environ.get("MEDIA_FFMPEG_NICE", "10"))
STDERR_TAIL_LINES = 20
PROGRESS_ARGS = ("-progress", "pipe:1", "-nostats")
BASE_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "warning")


class TranscodeError(RuntimeError):
    """ffmpeg failed or timed out; carries the argv and the last stderr lines."""

    def __init__(
        self, message: str, *, argv: Sequence[str], returncode: int | None, stderr_tail: list[str]
    ) -> None:
        tail = "\n".join(stderr_tail)
        super().__init__(f"{message}\n{tail}" if tail else message)
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


def ffmpeg_argv(
    stream: Any, *, progress: bool = True, progress_period_s: float | None = None
) -> list[str]:
    """Full ffmpeg argv for an ffmpeg-python stream (what run_ffmpeg executes, minus nice).

    progress_period_s: how often ffmpeg reports (its default is 0.5 s); a caller that acts on
    each report (a growing playlist republished) wants it sooner.
    """
    extra = list(PROGRESS_ARGS) if progress else []
    if progress and progress_period_s is not None:
        extra += ["-stats_period", f"{progress_period_s:g}"]
    return [FFMPEG, *BASE_ARGS, *extra, *stream.get_args()]


def niced(argv: Sequence[str]) -> list[str]:
    """Prefix argv with `nice -n 10` so live ingest keeps priority over batch transcodes."""
    # The nice binary avoids preexec_fn, which is unsafe in threaded servers.
    nice = shutil.which("nice") if NICE_LEVEL else None
    return [nice, "-n", str(NICE_LEVEL), *argv] if nice else list(argv)


def lower_priority(pid: int, level: int = NICE_LEVEL) -> None:
    """Renice a running process to `level`: every thread, as Linux keeps a niceness per thread.

    Raising one's niceness needs no privilege; a thread gone meanwhile is skipped.
    """
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:  # no /proc: the main thread is what the OS offers
        tids = [pid]
    for tid in tids:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, level)


def parse_progress_line(line: str, duration_s: float) -> float | None:
    """Fraction 0..1 from one `-progress` line, or None when the line carries no position."""
    key, _, value = line.strip().partition("=")
    if key == "progress" and value == "end":
        return 1.0
    if key != "out_time_us" or duration_s <= 0:
        return None
    try:
        us = int(value)
    except ValueError:
        return None  # "N/A" before the first packet
    return min(1.0, max(0.0, us / 1e6 / duration_s))


def _pump(stream: IO[str], sink: Callable[[str], None], done: Callable[[], None]) -> None:
    try:
        for line in stream:
            sink(line)
    finally:
        stream.close()
        done()


def run_argv(
    argv: Sequence[str],
    *,
    duration_s: float,
    on_progress: Callable[[float], None] | None = None,
    timeout_s: float,
    urgent_until: Callable[[], bool] | None = None,
) -> None:
    """Run a complete ffmpeg argv (with -progress pipe:1) niced; raise TranscodeError on failure.

    urgent_until: ffmpeg starts at the caller's own priority, and is niced like any other run
    once this returns True (checked after each progress report): a viewer waits on its start.
    """
    full = list(argv) if urgent_until is not None else niced(argv)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    # Progress fractions, then None once ffmpeg closes stdout (so we wake at exit, not on a poll).
    fractions: queue.Queue[float | None] = queue.Queue()

    def on_stdout(line: str) -> None:
        frac = parse_progress_line(line, duration_s)
        if frac is not None:
            fractions.put(frac)

    try:
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,  # a Ctrl-C in the worker's terminal must not hit ffmpeg first
        )
    except OSError as exc:
        raise TranscodeError(
            f"cannot start ffmpeg: {exc}", argv=full, returncode=None, stderr_tail=[]
        ) from exc
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(
            target=_pump, args=(proc.stdout, on_stdout, lambda: fractions.put(None)), daemon=True
        ),
        threading.Thread(
            target=_pump,
            args=(proc.stderr, lambda s: tail.append(s.rstrip()), lambda: None),
            daemon=True,
        ),
    ]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout_s
    last = 0.0
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            try:
                frac = fractions.get(timeout=remaining)
            except queue.Empty:
                continue
            if frac is None:
                break
            if on_progress is not None and frac > last:
                last = frac
                on_progress(frac if frac < 1.0 else 0.999)
            if urgent_until is not None and NICE_LEVEL and urgent_until():
                lower_priority(proc.pid)
                urgent_until = None
        if not timed_out:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for t in readers:
            t.join(timeout=5)
    if timed_out:
        raise TranscodeError(
            f"ffmpeg timed out after {timeout_s:.0f}s",
            argv=full,
            returncode=proc.returncode,
            stderr_tail=list(tail),
        )
    if proc.returncode != 0:
        raise TranscodeError(
            f"ffmpeg exited with status {proc.returncode}",
            argv=full,
            returncode=proc.returncode,
            stderr_tail=list(tail),
        )
    if on_progress is not None:
        on_progress(1.0)


def run_ffmpeg(
    stream: Any,
    *,
    duration_s: float,
    on_progress: Callable[[float], None] | None = None,
    timeout_s: float,
    progress_period_s: float | None = None,
    urgent_until: Callable[[], bool] | None = None,
) -> None:
    """Run an ffmpeg-python stream niced with progress 0..1; raise TranscodeError on failure."""
    run_argv(
        ffmpeg_argv(stream, progress_period_s=progress_period_s),
        duration_s=duration_s,
        on_progress=on_progress,
        timeout_s=timeout_s,
        urgent_until=urgent_until,
    )

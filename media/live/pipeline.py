"""One ingest connection: its bytes queued into one ffmpeg, whose FLV output feeds viewers.

A room (media.live.session.LiveRoom) owns a pipeline per ingest connection, one after the
other; each writes one recording part. The pipeline knows nothing of the room beyond the
three things it is given: where to write, the feed to push FLV tags to, and whom to tell.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable

from media.live.commands import Container, LiveOptions, build_live_argv
from media.live.flv import FlvParser, LowLatencyFeed

log = logging.getLogger(__name__)

MAX_PENDING_BYTES = 64 << 20  # ingest bytes waiting for ffmpeg before the publisher is cut
EXIT_TIMEOUT_S = 15.0  # ffmpeg must flush and exit this soon after its input closes


def safe_call(fn: Callable[..., None] | None, *args: object) -> None:
    """Call an app hook; an app bug must not kill the ingest threads."""
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:
        log.exception("live callback %r failed", fn)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Publisher:
    """One ingest connection into a room: feed() its bytes in order, then close()."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self._pipeline = pipeline
        self.room_id = pipeline.room_id
        self.on_abort: Callable[[], None] | None = None  # set by a transport to drop its socket

    @property
    def closed(self) -> bool:
        """True once closed, aborted or once ffmpeg has stopped."""
        return self._pipeline.input_closed

    def feed(self, chunk: bytes) -> None:
        """Queue ingest bytes (FLV, WebM or fMP4 as opened); never blocks on ffmpeg."""
        if chunk:
            self._pipeline.write(chunk)

    def close(self) -> None:
        """The connection ended (cleanly or not): the room waits for a resume."""
        self._pipeline.close_input()

    def abort(self) -> None:
        """Cut the connection from our side (idle, overflow, room ended)."""
        self._pipeline.close_input()
        safe_call(self.on_abort)


class IngestPipeline:
    """One ffmpeg process for one ingest connection (one recording part).

    on_first_bytes(part) is called when the first ingest bytes arrive (the part's wall-clock
    start, for the replay's timeline); on_exit(pipeline) once ffmpeg and its threads are done.
    """

    def __init__(
        self,
        room_id: str,
        out_dir: str,
        *,
        container: Container,
        part: int,
        options: LiveOptions,
        feed: LowLatencyFeed,
        on_first_bytes: Callable[[int], None],
        on_exit: Callable[[IngestPipeline], None],
    ) -> None:
        self.room_id = room_id
        self.part = part
        self.argv = build_live_argv(out_dir, container=container, part=part, options=options)
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self._feed = feed
        self._on_first_bytes = on_first_bytes
        self._on_exit = on_exit
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._pending = 0
        self._received = False
        self._lock = threading.Lock()
        self.input_closed = False
        self.last_input_at = time.monotonic()
        self.exited = threading.Event()
        self.publisher = Publisher(self)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._threads = [
            threading.Thread(target=self._write_loop, daemon=True, name=f"live-in-{part}"),
            threading.Thread(target=self._read_flv, daemon=True, name=f"live-out-{part}"),
            threading.Thread(target=self._read_stderr, daemon=True, name=f"live-err-{part}"),
        ]
        for t in self._threads:
            t.start()
        threading.Thread(target=self._wait, daemon=True, name=f"live-wait-{part}").start()

    @property
    def pid(self) -> int:
        """ffmpeg's process id."""
        return self.proc.pid

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self.input_closed:
                return
            self._pending += len(chunk)
            overflow = self._pending > MAX_PENDING_BYTES
            self.last_input_at = time.monotonic()
            first, self._received = not self._received, True
        if first:
            self._on_first_bytes(self.part)
        if overflow:
            log.warning("room %s: ffmpeg cannot keep up, cutting the ingest", self.room_id)
            self.publisher.abort()
            return
        self._queue.put(chunk)

    def close_input(self) -> None:
        with self._lock:
            if self.input_closed:
                return
            self.input_closed = True
        self._queue.put(None)

    def stop(self, timeout: float = EXIT_TIMEOUT_S) -> None:
        """Close the input and wait (bounded) for ffmpeg and the threads."""
        self.close_input()
        if not self.exited.wait(timeout):
            self.proc.kill()
            self.exited.wait(5)

    def _write_loop(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            while (chunk := self._queue.get()) is not None:
                with self._lock:
                    self._pending -= len(chunk)
                stdin.write(chunk)
                stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            self.close_input()
        finally:
            with contextlib.suppress(OSError):
                stdin.close()
        # Input closed: ffmpeg flushes and exits; make sure it does.
        try:
            self.proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("room %s: ffmpeg did not exit, killing it", self.room_id)
            self.proc.kill()

    def _read_flv(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        parser = FlvParser()
        self._feed.new_part()
        try:
            while data := os.read(stdout.fileno(), 65536):
                for tag in parser.feed(data):
                    self._feed.push(tag)
        except ValueError:
            log.exception("room %s: bad FLV from ffmpeg", self.room_id)
        finally:
            stdout.close()

    def _read_stderr(self) -> None:
        stderr = self.proc.stderr
        assert stderr is not None
        for line in stderr:
            self.tail.append(line.decode("utf-8", "replace").rstrip())
        stderr.close()

    def _wait(self) -> None:
        self.proc.wait()
        self.close_input()
        for t in self._threads:
            t.join(timeout=5)
        if self.proc.returncode not in (0, None):
            log.warning(
                "room %s part %d: ffmpeg exited %s: %s",
                self.room_id,
                self.part,
                self.proc.returncode,
                " | ".join(self.tail),
            )
        self.exited.set()
        self._on_exit(self)

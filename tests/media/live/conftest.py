"""Fixtures for live ingest: small clips, a hub factory with event capture, ffmpeg pushes."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from media.live.commands import LiveOptions, LiveRung
from media.live.session import LiveCallbacks, LiveHub, LiveRoom, RoomEnded, SegmentEvent
from media.samples import generate_clip

PUSH_TIMEOUT_S = 30
# Two small rungs keep the real-time encodes light on a shared 2-core box.
TEST_OPTIONS = LiveOptions(
    preset="ultrafast",
    list_size=4,
    rungs=(LiveRung("360p", 360, 600, 64), LiveRung("180p", 180, 200, 48)),
)


@dataclass
class Events:
    """Everything the hub's callbacks reported."""

    started: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    segments: list[SegmentEvent] = field(default_factory=list)
    ended: list[RoomEnded] = field(default_factory=list)
    closed: list[tuple[str, int, int]] = field(default_factory=list)  # room, part, its bytes
    lock: threading.Lock = field(default_factory=threading.Lock)

    def callbacks(self) -> LiveCallbacks:
        def add(target: list[Any], value: Any) -> None:
            with self.lock:
                target.append(value)

        return LiveCallbacks(
            on_started=lambda room: add(self.started, room.room_id),
            on_dropped=lambda room: add(self.dropped, room.room_id),
            on_resumed=lambda room: add(self.resumed, room.room_id),
            on_segment=lambda ev: add(self.segments, ev),
            on_ended=lambda ev: add(self.ended, ev),
            on_part_closed=lambda room, part: add(
                self.closed, (room.room_id, part, _part_size(room.out_dir, part))
            ),
        )


def _part_size(out_dir: str, part: int) -> int:
    try:
        return os.path.getsize(os.path.join(out_dir, "recording", f"part_{part:04d}.ts"))
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="session")
def live_clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("live-clips")
    return generate_clip(folder / "live.mp4", duration_s=3, width=640, height=360)


@pytest.fixture(scope="session")
def webm_clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What a browser's MediaRecorder sends: VP8 + Opus in WebM, written as a live stream."""
    out = tmp_path_factory.mktemp("live-webm") / "camera.webm"
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "3", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
        "-g", "30", "-c:a", "libopus", "-f", "webm", "-live", "1", "-y", str(out),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=120)
    return str(out)


@pytest.fixture
def make_hub(tmp_path: Path) -> Iterator[Callable[..., tuple[LiveHub, Events]]]:
    hubs: list[LiveHub] = []

    def factory(
        keys: dict[str, str] | None = None, *, grace_s: float = 3.0, **kwargs: Any
    ) -> tuple[LiveHub, Events]:
        events = Events()
        table = keys if keys is not None else {}
        hub = LiveHub(
            tmp_path / f"live{len(hubs)}",
            authorize=lambda key: table.get(key),
            options=kwargs.pop("options", TEST_OPTIONS),
            callbacks=events.callbacks(),
            grace_s=grace_s,
            **kwargs,
        )
        hubs.append(hub)
        return hub, events

    yield factory
    for hub in hubs:
        hub.close()


def push_rtmp(clip: str, port: int, key: str, **popen: Any) -> subprocess.Popen[str]:
    """ffmpeg as the OBS stand-in: stream a clip in real time to rtmp://.../live/<key>."""
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", clip,
        "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}",
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = PUSH_TIMEOUT_S) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, err


def probe_streams(path: str, fmt: str | None = None) -> list[dict[str, Any]]:
    argv = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height"]
    argv += ["-of", "json", *(["-f", fmt] if fmt else []), path]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=30, text=True).stdout
    streams: list[dict[str, Any]] = json.loads(out)["streams"]
    return streams


def probe_duration(path: str) -> float:
    argv = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=30, text=True).stdout
    return float(out.strip())


def segment_paths(room: LiveRoom, rendition: str) -> list[str]:
    folder = os.path.join(room.out_dir, rendition)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".ts"))

"""A show that moved between ingest nodes sharing no disk is replayed whole, with real processes.

OBS (ffmpeg over RTMP) streams into node A, which is killed (-9); the broadcaster reconnects to
node B (its own LIVE_ROOT); A restarts on its folder and stores the part the killed process
left; B is stopped (SIGTERM) and stores its part as it goes; the broadcaster reconnects to the
restarted A; the creator ends the show. The replay, made by a worker with an empty live folder
from the parts in (moto) S3, lasts the three parts together, in show order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commerce.live.replay import REPLAY_JOB
from media.live.playlist import parse_live_playlist
from media.s3 import make_s3_client
from tests.commerce.live.ingest_support import jobs_of, room_row, stream_key, wait_for
from tests.commerce.live.test_ingest_restarts import (
    alive,
    ffmpeg_children,
    push,
    push_until_taken,
    replay_of,
)
from tests.conftest import S3_BUCKET
from tests.processes import Processes, free_port

pytestmark = pytest.mark.ffmpeg

TIMERS = {
    "LIVE_GRACE_SECONDS": "15",  # a reconnect on a loaded machine takes a few tries
    "LIVE_INGEST_LEASE_SECONDS": "1.5",
    "LIVE_RECONCILE_SECONDS": "0.3",
    "LIVE_SWEEP_SECONDS": "0.5",
    "LIVE_PARTS_SWEEP_SECONDS": "0.5",
    "LIVE_IDLE_TIMEOUT_SECONDS": "2",  # a part unwritten for 4 s is taken by a node's sweep
    "LIVE_PRESET": "ultrafast",
    "TRANSCODE_PRESET": "ultrafast",
    "JOBS_POLL_SECONDS": "0.2",
}


def last_sequence(folder: Path) -> int:
    """The newest segment's number in the room's lowest rung's playlist in one node's folder."""
    playlists = sorted(folder.glob("*/index.m3u8"))
    if not playlists:
        return -1
    found = parse_live_playlist(playlists[0].read_text()).segments
    return found[-1].sequence if found else -1


def start_ingests(processes: Processes, *nodes: tuple[int, Path]) -> list[subprocess.Popen[str]]:
    """`flask live-ingest` processes started together: (RTMP port, LIVE_ROOT) each."""
    started = [
        processes._spawn(
            ["live-ingest"],
            f"ingest-{port}",
            {"LIVE_RTMP_PORT": str(port), "LIVE_ROOT": str(root)},
        )
        for port, root in nodes
    ]
    for process in started:
        wait_for(
            lambda p=process: "RTMP ingest on" in processes.log_of(p), timeout=90, what="an ingest"
        )
    return started


def local_parts(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "recording").glob("part_*"))


def stored(s3: dict[str, str], prefix: str) -> list[str]:
    listing = make_s3_client(s3).list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_a_show_moved_between_nodes_without_shared_disk_is_replayed_whole(
    app, make_room, processes, s3_server, tmp_path
):
    api, room_id = make_room(live=False)
    key = stream_key(api, room_id)
    roots = {name: tmp_path / f"{name}-live" for name in ("a", "b", "c")}
    on_a, on_b = roots["a"] / room_id, roots["b"] / room_id
    parts_prefix = f"live/{room_id}/parts/"
    processes.env.update({**TIMERS, **s3_server})
    port_a, port_b, port_a2 = free_port(), free_port(), free_port()
    pushes: list[subprocess.Popen[bytes]] = []
    orphans: list[int] = []
    # Each connection's wall-clock window, from before its publish to after its ingest was cut:
    # its part must begin inside it and cannot hold more media than it spans.
    windows: list[tuple[float, float]] = []
    try:
        processes.worker(LIVE_ROOT=str(roots["c"]))  # the replay and the periodic sweep
        # All nodes start at once (a start takes seconds); A's successor shares A's disk only.
        node_a, _restarted_a, node_b = start_ingests(
            processes, (port_a, roots["a"]), (port_a2, roots["a"]), (port_b, roots["b"])
        )
        began = time.time()
        pushes.append(push(port_a, key))
        wait_for(lambda: last_sequence(on_a) >= 3, what="the show on air on A")

        orphans = ffmpeg_children(node_a.pid)  # they close A's part when their input ends
        node_a.send_signal(signal.SIGKILL)  # nothing stored: its part stays on A's disk
        node_a.wait(10)
        windows.append((began, time.time()))
        began = time.time()
        pushes.append(push_until_taken(port_b, key, pushes))
        wait_for(lambda: last_sequence(on_b) >= 3, what="the show resumed on B")
        # The restarted A finds the killed process's part, closed, and stores it.
        wait_for(lambda: len(stored(s3_server, parts_prefix)) == 1, what="A's part in storage")
        assert local_parts(on_a) == []

        node_b.send_signal(signal.SIGTERM)  # a deploy: B stores its closed part as it stops
        assert node_b.wait(30) == 0, processes.log_of(node_b)
        windows.append((began, time.time()))
        assert len(stored(s3_server, parts_prefix)) == 2 and local_parts(on_b) == []
        assert room_row(app, room_id).state == "live"

        before = last_sequence(on_a)
        began = time.time()
        pushes.append(push_until_taken(port_a2, key, pushes))  # back to A, restarted
        wait_for(lambda: last_sequence(on_a) >= before + 3, what="the show resumed on A")
        assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
        wait_for(lambda: jobs_of(app, REPLAY_JOB), what="the show ended on A")  # ingest cut
        windows.append((began, time.time()))

        video = wait_for(lambda: replay_of(app, room_id), timeout=90, what="the replay")
        timeline = room_row(app, room_id).media_timeline
        assert timeline is not None and len(timeline) == 3, timeline
        # A's, B's, then A's again, in show order, each within its connection.
        for part, (opened, cut) in zip(timeline, windows, strict=True):
            started = datetime.fromisoformat(part["started_at"]).replace(tzinfo=UTC).timestamp()
            assert opened <= started <= cut, (timeline, windows)
            assert 1500 <= part["duration_ms"] <= (cut - opened + 1) * 1000, (timeline, windows)
        total_ms = sum(part["duration_ms"] for part in timeline)
        assert abs(video.duration_ms - total_ms) < 1500, (video.duration_ms, timeline)
        # Published: the stored parts went, nothing is left on any node's disk.
        wait_for(lambda: stored(s3_server, "live/") == [], what="the stored parts removed")
        assert local_parts(on_a) == [] and local_parts(on_b) == []
        assert not any(p.is_file() for p in roots["c"].rglob("*"))
    except BaseException:
        print(processes.logs())
        raise
    finally:
        for proc in pushes:
            proc.kill()
            proc.wait(10)
        for pid in orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

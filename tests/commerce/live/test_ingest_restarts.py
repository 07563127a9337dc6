"""The live ingest survives its process: kill -9, SIGTERM and a rolling restart of real
`flask live-ingest` processes, with ffmpeg pushing over RTMP as OBS does.

The broadcaster reconnecting with the same key within the grace resumes the same room on the
next process; with nobody back, the deployment's sweep (a `flask worker`) ends the room past
the grace and the replay is made from every recorded part, the killed one's too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.live.models import LiveRoom
from commerce.videos.models import READY, Video
from media.live.playlist import parse_live_playlist
from tests.commerce.live.ingest_support import room_row, stream_key, wait_for
from tests.media.live.conftest import probe_duration
from tests.processes import free_port

pytestmark = pytest.mark.ffmpeg

GRACE_S = 6
TIMERS = {
    "LIVE_GRACE_SECONDS": str(GRACE_S),
    "LIVE_INGEST_LEASE_SECONDS": "1.5",
    "LIVE_RECONCILE_SECONDS": "0.3",
    "LIVE_SWEEP_SECONDS": "0.5",
    "LIVE_PRESET": "ultrafast",
    "TRANSCODE_PRESET": "ultrafast",
    "JOBS_POLL_SECONDS": "0.2",
}


def push(port: int, key: str) -> subprocess.Popen[bytes]:
    """OBS's stand-in: a small live test picture with sound, in real time, over RTMP."""
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
        "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}",
    ]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def push_until_taken(port: int, key: str, pushes: list) -> subprocess.Popen[bytes]:
    """Reconnect as OBS does: a refused publish (BadName) ends ffmpeg at once; try again."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        proc = push(port, key)
        pushes.append(proc)
        try:
            proc.wait(2.5)
        except subprocess.TimeoutExpired:
            return proc  # streaming
        time.sleep(0.3)
    raise AssertionError("the ingest never took the stream back")


def ffmpeg_children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm", encoding="ascii") as fh:
                name = fh.read().strip()
        except (OSError, ValueError):
            continue
        if int(fields[1]) == pid and name == "ffmpeg":
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def last_sequence(client, room_id: str) -> int:
    response = client.get(f"/live/{room_id}/hls/360p/index.m3u8")
    if response.status_code != 200:
        return -1
    segments = parse_live_playlist(response.get_data(as_text=True)).segments
    return segments[-1].sequence if segments else -1


def parts(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "recording").glob("part_*.ts") if p.stat().st_size)


def stored_parts(tmp_path: Path, room_id: str) -> list[Path]:
    """The room's parts in the deployment's (local) storage."""
    return sorted((tmp_path / "storage" / "live" / room_id / "parts").glob("*.ts"))


def test_kill_sigterm_and_restart_keep_one_show_and_its_replay(
    app, make_room, client, processes, tmp_path
):
    api, room_id = make_room(live=False)
    key = stream_key(api, room_id)
    folder = tmp_path / "live" / room_id
    processes.env.update(TIMERS)
    # The next process is started before the current one goes, as a deploy does: on a busy
    # machine a start takes seconds, which would otherwise eat into the grace.
    port, other_port = free_port(), free_port()
    pushes: list[subprocess.Popen[bytes]] = []
    orphans: list[int] = []
    try:
        processes.worker()  # jobs and the periodic sweep of the deployment
        first = processes.ingest(port)
        pushes.append(push(port, key))
        wait_for(lambda: last_sequence(client, room_id) >= 2, what="the show on air")
        assert room_row(app, room_id).state == "live"
        # The node renews its lease while it streams.
        claimed_at = room_row(app, room_id).ingest_seen_at
        wait_for(lambda: room_row(app, room_id).ingest_seen_at > claimed_at, what="a heartbeat")

        # kill -9: nothing is written; the room waits from the node's last heartbeat, and the
        # broadcaster reconnects to another ingest node once the killed node's lease lapsed.
        second = processes.ingest(other_port)
        orphans = ffmpeg_children(first.pid)
        assert orphans, "the ingest runs ffmpeg"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        before = last_sequence(client, room_id)
        push_until_taken(other_port, key, pushes)
        wait_for(lambda: last_sequence(client, room_id) >= before + 2, what="the playlist again")
        row = room_row(app, room_id)
        assert (row.state, row.ingest_node) == ("live", node_of(processes, second))
        assert parts(folder) == ["part_0001.ts", "part_0002.ts"]
        text = client.get(f"/live/{room_id}/hls/360p/index.m3u8").get_data(as_text=True)
        assert "#EXT-X-DISCONTINUITY" in text and "#EXT-X-ENDLIST" not in text
        # The killed process's ffmpeg saw its input close, closed its part and left.
        wait_for(lambda: not any(alive(pid) for pid in orphans), what="the orphans to exit")

        # SIGTERM (a deploy): the part is closed, the room waits, the show is not ended; the
        # restarted process on the first port takes the broadcaster back.
        third = processes.ingest(port)
        transcoders = ffmpeg_children(second.pid)
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, processes.log_of(second)
        assert transcoders and not any(alive(pid) for pid in transcoders)  # waited for
        # Both closed parts went to storage (the second as it closed), in show order by name.
        stored = stored_parts(tmp_path, room_id)
        assert len(stored) == 2 and parts(folder) == []
        assert probe_duration(str(stored[-1])) > 1.0  # closed
        row = room_row(app, room_id)
        assert row.state == "live" and row.ingest_dropped_at is not None
        playlist = client.get(f"/live/{room_id}/hls/360p/index.m3u8").get_data(as_text=True)
        assert "#EXT-X-ENDLIST" not in playlist
        before = last_sequence(client, room_id)
        push_until_taken(port, key, pushes)
        wait_for(lambda: last_sequence(client, room_id) >= before + 2, what="the resumed show")
        assert room_row(app, room_id).state == "live"
        # The third part, here; the folder's numbering starts again (stored parts are named by
        # their start, so numbers never collide there).
        assert parts(folder) == ["part_0001.ts"] and len(stored_parts(tmp_path, room_id)) == 2

        # kill -9 and nobody comes back: past the grace the sweep ends the room.
        spare = processes.ingest(other_port)  # where a late reconnect will knock
        orphans = ffmpeg_children(third.pid)
        third.send_signal(signal.SIGKILL)
        third.wait(10)
        killed_at = time.monotonic()
        wait_for(lambda: room_row(app, room_id).state == "ended", what="the room ending")
        assert time.monotonic() - killed_at >= GRACE_S - 1  # not before its grace
        ended = client.get(f"/live/{room_id}/hls/360p/index.m3u8").get_data(as_text=True)
        assert ended.rstrip().endswith("#EXT-X-ENDLIST")
        # Reconnecting after the grace is refused: the show is over, nothing new is recorded.
        late = push(other_port, key)
        pushes.append(late)
        assert late.wait(15) != 0
        assert "unknown stream key" in processes.log_of(spare)
        assert len(parts(folder)) + len(stored_parts(tmp_path, room_id)) <= 3

        video = wait_for(lambda: replay_of(app, room_id), timeout=90, what="the replay")
        timeline = room_row(app, room_id).media_timeline
        assert timeline is not None and len(timeline) == 3, timeline
        assert all(part["duration_ms"] > 1000 for part in timeline)
        assert abs(video.duration_ms - sum(part["duration_ms"] for part in timeline)) < 1500
    except BaseException:
        print(processes.logs())  # what each process said, beside the failure
        raise
    finally:
        for proc in pushes:
            proc.kill()
            proc.wait(10)
        for pid in orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def node_of(processes, process) -> str:
    """The node id an ingest process printed at start."""
    log = processes.log_of(process)
    return log.split("(node ", 1)[1].split(")", 1)[0]


def replay_of(app, room_id: str) -> Video | None:
    with app.app_context():
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == room_id))
        video = db.session.get(Video, room.replay_video_id) if room.replay_video_id else None
        ready = video is not None and video.state == READY
        if ready:
            db.session.expunge(video)
        db.session.remove()
        return video if ready else None

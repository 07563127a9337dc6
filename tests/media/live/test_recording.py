"""The recording from its parts: what a killed ingest left (a truncated part, an unreadable one)
still makes a replay, in order, placed by the starts written beside the parts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from media.live.recording import (
    RECORDING_NAME,
    finalise_recording,
    last_part,
    read_part_starts,
    write_part_start,
)
from media.live.session import IngestRefused, LiveHub
from tests.media.live.conftest import TEST_OPTIONS, probe_duration

pytestmark = pytest.mark.ffmpeg


def make_part(path: Path, seconds: int) -> None:
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
        "-f", "mpegts", "-y", str(path),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=60)


def test_a_truncated_last_part_keeps_what_is_readable(tmp_path):
    room = tmp_path / "room"
    parts = room / "recording"
    parts.mkdir(parents=True)
    make_part(parts / "part_0001.ts", 2)
    make_part(parts / "part_0002.ts", 4)
    # kill -9 mid-part: the second part stops half-way through a packet.
    data = (parts / "part_0002.ts").read_bytes()
    (parts / "part_0002.ts").write_bytes(data[: len(data) // 2 + 77])
    (parts / "part_0003.ts").write_bytes(b"\x00" * 500)  # killed before anything readable
    (parts / "part_0004.ts").write_bytes(b"")  # opened, never written
    write_part_start(str(room), 1, 1000.0)
    write_part_start(str(room), 2, 1010.0)

    assert last_part(str(room)) == 4  # a resume writes part_0005
    assert read_part_starts(str(room)) == {1: 1000.0, 2: 1010.0}
    recording, timeline = finalise_recording(str(room))
    assert recording == os.path.join(room, "recording.mp4")
    assert [part.started_at for part in timeline] == [1000.0, 1010.0]
    assert timeline[0].duration_s == pytest.approx(2.0, abs=0.2)
    assert 1.0 < timeline[1].duration_s < 3.0
    total = sum(part.duration_s for part in timeline)
    assert probe_duration(recording) == pytest.approx(total, abs=0.3)
    assert not list(room.glob(".*.tmp"))


def test_no_readable_part_makes_no_recording(tmp_path):
    (tmp_path / "recording").mkdir()
    (tmp_path / "recording" / "part_0001.ts").write_bytes(b"\x00" * 100)
    assert finalise_recording(str(tmp_path)) == (None, ())
    assert not (tmp_path / "recording.mp4").exists()


# Not asked to adopt (a stale folder of an ended room), or the folder holds a finished recording.
@pytest.mark.parametrize(("adopt", "finished"), [(False, False), (True, True)])
def test_a_folder_is_adopted_only_when_asked_and_never_once_finished(tmp_path, adopt, finished):
    (tmp_path / "room-a" / "recording").mkdir(parents=True)
    if finished:
        (tmp_path / "room-a" / RECORDING_NAME).write_bytes(b"mp4")
    hub = LiveHub(tmp_path, options=TEST_OPTIONS, adopt_folders=adopt)
    try:
        with pytest.raises(IngestRefused):
            hub.publish("room-a", "flv")
        assert hub.room("room-a") is None
        assert not (tmp_path / "room-a" / "360p").exists()  # no ffmpeg, nothing written
    finally:
        hub.close()

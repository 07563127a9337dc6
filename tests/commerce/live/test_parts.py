"""Recording parts in storage: names, storing (and failing to), the node's sweep, the replay
assembled from every node's parts, and a replay waiting for parts not stored yet."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commerce.extensions import db
from commerce.files.services import storage
from commerce.jobs.models import Job
from commerce.jobs.runner import enqueue, run_pending
from commerce.live import parts, services
from commerce.live.models import LiveRoom
from commerce.live.replay import REPLAY_JOB
from commerce.timeutil import utcnow
from commerce.videos.models import READY, Video
from media.samples import generate_clip
from media.storage import LocalStorage
from tests.media.live.conftest import probe_duration

T0 = 1_760_000_000.0  # a show's first bytes, epoch seconds


@pytest.fixture(scope="module")
def ts_clip(tmp_path_factory) -> bytes:
    """Two seconds of MPEG-TS, as an ingest part holds."""
    folder = tmp_path_factory.mktemp("parts-clip")
    mp4 = generate_clip(folder / "clip.mp4", duration_s=2, width=320, height=180)
    out = folder / "clip.ts"
    argv = ["ffmpeg", "-v", "error", "-i", mp4, "-c", "copy", "-f", "mpegts", "-y", str(out)]
    subprocess.run(argv, check=True, timeout=60)
    return out.read_bytes()


class CountingStorage(LocalStorage):
    """A local backend that counts uploads, and fails them while `broken`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.saved: list[str] = []
        self.broken = False

    def save_file(self, key, path, content_type=None, *, move=False) -> int:
        if self.broken:
            raise OSError("storage is away")
        self.saved.append(key)
        return super().save_file(key, path, content_type, move=move)


def write_part(live_root: Path, room: str, number: int, data: bytes, started: float | None):
    folder = live_root / room / "recording"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part_{number:04d}.ts"
    path.write_bytes(data)
    if started is not None:
        (folder / f"part_{number:04d}.ts.start").write_text(repr(started))
    return path


def local_files(live_root: Path, room: str) -> list[str]:
    return sorted(p.name for p in (live_root / room / "recording").glob("*"))


def test_stored_parts_are_named_by_their_start_and_listed_in_show_order(tmp_path):
    assert parts.part_key("r1", T0 + 0.1234, 7) == "live/r1/parts/1760000000123-0007.ts"
    backend = LocalStorage(tmp_path)
    # Node B numbers its first part 1 too: the start keeps the two apart, and orders them.
    for key in (parts.part_key("r1", T0 + 30, 1), parts.part_key("r1", T0, 1), "live/r1/parts/x"):
        backend.save_bytes(key, b"ts")
    assert [p.started_ms for p in parts.stored_parts(backend, "r1")] == [
        1_760_000_000_000,
        1_760_000_030_000,
    ]


def test_a_closed_part_is_stored_kept_while_the_room_may_resume_then_dropped(tmp_path):
    backend, root = CountingStorage(tmp_path / "store"), tmp_path / "live"
    write_part(root, "r1", 1, b"one", T0)
    write_part(root, "r1", 2, b"two", T0 + 10)  # the current part: not closed yet
    assert parts.store_local_parts(backend, str(root), "r1", upto=1, keep=True) == 0
    assert backend.saved == [parts.part_key("r1", T0, 1)]
    assert local_files(root, "r1") == [
        "part_0001.ts",
        "part_0001.ts.start",
        "part_0001.ts.stored",
        "part_0002.ts",
        "part_0002.ts.start",
    ]
    # The room ended here: the stored one only goes, the other is stored and goes.
    assert parts.store_local_parts(backend, str(root), "r1") == 0
    assert backend.saved == [parts.part_key("r1", T0, 1), parts.part_key("r1", T0 + 10, 2)]
    assert local_files(root, "r1") == []
    assert [backend.path(p.key) for p in parts.stored_parts(backend, "r1")] == [
        backend.path(backend.saved[0]),
        backend.path(backend.saved[1]),
    ]
    assert Path(backend.path(backend.saved[1])).read_bytes() == b"two"


def test_a_failed_upload_keeps_the_part_for_a_later_try(tmp_path):
    backend, root = CountingStorage(tmp_path / "store"), tmp_path / "live"
    write_part(root, "r1", 1, b"one", T0)
    backend.broken = True
    assert parts.store_local_parts(backend, str(root), "r1") == 1
    assert local_files(root, "r1") == ["part_0001.ts", "part_0001.ts.start"]
    backend.broken = False
    assert parts.store_local_parts(backend, str(root), "r1") == 0
    assert local_files(root, "r1") == [] and len(parts.stored_parts(backend, "r1")) == 1


@pytest.mark.parametrize(
    ("timeline", "present", "missing"),
    [
        (None, set(), 0),  # ended by the sweep: nothing known to wait for
        ([{"started_at": "2025-10-09T08:53:20", "duration_ms": 1}], {1_760_000_000_000}, 0),
        ([{"started_at": "2025-10-09T08:53:20.002", "duration_ms": 1}], {1_760_000_000_000}, 0),
        ([{"started_at": "2025-10-09T08:53:20.003", "duration_ms": 1}], {1_760_000_000_000}, 1),
        ([{"started_at": "2025-10-09T08:53:20", "duration_ms": 1}], set(), 1),
    ],
)
def test_missing_parts(timeline, present, missing):
    assert datetime.fromtimestamp(T0, UTC).replace(tzinfo=None).isoformat() == "2025-10-09T08:53:20"
    assert parts.missing_parts(timeline, present) == missing


PART = {"started_at": "2025-10-09T08:53:20.000400", "duration_ms": 2000}
ROUNDED = {"started_at": "2025-10-09T08:53:20", "duration_ms": 2000}
LATER = {"started_at": "2025-10-09T08:53:40", "duration_ms": 2000}


@pytest.mark.parametrize(
    ("known", "assembled", "same"),
    [
        ([PART], [ROUNDED], True),  # the ending node's exact starts are kept
        ([PART], [ROUNDED, LATER], False),  # another node's part too
        (None, [ROUNDED], False),
        ([PART], [{**ROUNDED, "duration_ms": 2500}], False),
        ([PART], None, False),
    ],
)
def test_same_timeline(known, assembled, same):
    assert parts.same_timeline(known, assembled) is same


def test_the_sweep_stores_settled_parts_of_rooms_no_one_streams_into_here(app, make_room, host):
    root = Path(app.config["LIVE_ROOT"])
    rooms = [make_room()[1] for _ in range(4)]
    left, fresh, held, replayed = rooms
    for room in rooms:
        path = write_part(root, room, 1, b"ts", T0)
        os.utime(path, (time.time() - 60, time.time() - 60))
    os.utime(write_part(root, fresh, 2, b"ts", T0 + 5))  # being written by someone
    with app.app_context():
        video = Video(public_id="v-replayed", creator_id=host.id, title="t", state=READY)
        db.session.add(video)
        db.session.flush()
        db.session.execute(
            update(LiveRoom).where(LiveRoom.public_id == replayed).values(replay_video_id=video.id)
        )
        db.session.commit()
        backend = storage()
        done = parts.do_sweep_parts(
            db.session, backend, str(root), [held], settled_before=time.time() - 10
        )
        stored = {room: len(parts.stored_parts(backend, room)) for room in rooms}
        db.session.remove()
    assert done == [left]
    assert stored == {left: 1, fresh: 1, held: 0, replayed: 0}
    assert local_files(root, fresh) == ["part_0002.ts", "part_0002.ts.start"]
    assert "part_0001.ts" in local_files(root, held)
    assert "part_0001.ts" in local_files(root, replayed)


@pytest.mark.ffmpeg
def test_the_replay_recording_is_every_nodes_parts_in_show_order(tmp_path, ts_clip):
    backend, root = LocalStorage(tmp_path / "store"), tmp_path / "live"
    # Node A's part 1 and node B's part 1, stored; this folder's part 2 (started last) not yet;
    # its part 1 is B's, stored and kept here (marked): one copy of it in the replay.
    for started in (T0, T0 + 30):
        backend.save_bytes(parts.part_key("r1", started, 1), ts_clip)
    write_part(root, "r1", 1, ts_clip, T0 + 30)
    (root / "r1" / "recording" / "part_0001.ts.stored").write_text("stored")
    write_part(root, "r1", 2, ts_clip, T0 + 60)
    with parts.assembled_recording(backend, "r1", str(root / "r1"), str(tmp_path / "w")) as (
        made,
        timeline,
    ):
        assert made is not None
        assert [part.started_at for part in timeline] == [T0, T0 + 30, T0 + 60]
        assert all(abs(part.duration_s - 2.0) < 0.2 for part in timeline)
        assert probe_duration(made) == pytest.approx(6.0, abs=0.3)
    assert os.listdir(tmp_path / "w") == []  # the temporary folder went


def _queued_replay(app, room_id: str, timeline: list[dict]) -> None:
    with app.app_context():
        room = services.access_room(db.session, room_id)
        room.media_timeline = timeline
        enqueue(db.session, REPLAY_JOB, {"room_id": room.id})
        db.session.commit()


@pytest.mark.ffmpeg
def test_a_replay_waits_for_a_part_not_stored_yet_then_is_made_from_all(app, make_room, ts_clip):
    api, room_id = make_room()
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    iso = [datetime.fromtimestamp(t, UTC).replace(tzinfo=None).isoformat() for t in (T0, T0 + 30)]
    # The ending node recorded two parts; one reached storage, the other's upload failed.
    _queued_replay(app, room_id, [{"started_at": at, "duration_ms": 2000} for at in iso])
    with app.app_context():
        backend = storage()
        backend.save_bytes(parts.part_key(room_id, T0, 1), ts_clip)
    assert run_pending(app) == 1
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == REPLAY_JOB))
        assert job.state == "queued" and "not stored yet" in job.last_error
        assert services.access_room(db.session, room_id).replay_video_id is None
        backend.save_bytes(parts.part_key(room_id, T0 + 30, 2), ts_clip)  # the retry stored it
        db.session.execute(update(Job).values(run_after=utcnow()))
        db.session.commit()
        db.session.remove()
    assert run_pending(app) == 1
    with app.app_context():
        room = services.access_room(db.session, room_id)
        video = db.session.get(Video, room.replay_video_id)
        assert video.state == READY and video.is_published
        assert abs(video.duration_ms - 4000) < 400
        assert [p["started_at"] for p in room.media_timeline] == iso
        assert parts.stored_parts(backend, room_id) == []  # published: the stored parts went
        db.session.remove()

"""The room's live folder goes once its replay is published, and stays while the job can retry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.jobs.runner import enqueue, run_pending
from commerce.live import replay, services
from commerce.live.replay import REPLAY_JOB
from commerce.timeutil import utcnow
from commerce.videos.models import READY, Video
from media.samples import generate_clip

pytestmark = pytest.mark.ffmpeg

LIVE_FILES = (
    "master.m3u8",
    "360p/index.m3u8",
    "360p/seg_00007.ts",
    "recording/part_0000.ts",
    "recording/part_0001.ts",
    "recording.mp4",
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("replay-clip")
    return generate_clip(folder / "recording.mp4", duration_s=2, width=320, height=180)


@pytest.fixture
def ended_room(app, make_room, clip) -> tuple[str, Path]:
    """A show ended with its live folder as the ingest leaves it, and its replay job queued."""
    api, room_id = make_room()
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    folder = Path(app.config["LIVE_ROOT"]) / room_id
    for name in LIVE_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(Path(clip).read_bytes() if name == "recording.mp4" else b"ts")
    with app.app_context():
        room = services.access_room(db.session, room_id)
        enqueue(db.session, REPLAY_JOB, {"room_id": room.id})
        db.session.commit()
    return room_id, folder


def _replay(app, room_id: str) -> Video | None:
    with app.app_context():
        room = services.access_room(db.session, room_id)
        video = db.session.get(Video, room.replay_video_id) if room.replay_video_id else None
        if video is not None:
            db.session.expunge(video)
        db.session.remove()
        return video


def _retry_now(app) -> None:
    with app.app_context():
        db.session.execute(update(Job).values(run_after=utcnow()))
        db.session.commit()


def test_a_failed_transcode_keeps_the_live_folder_and_the_retry_removes_it(
    app, ended_room, monkeypatch
):
    room_id, folder = ended_room

    def broken(payload, ctx):
        raise RuntimeError("ffmpeg exploded")

    monkeypatch.setattr(replay.pipeline, "transcode", broken)
    assert run_pending(app) == 1
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == REPLAY_JOB))
        assert job.state == "queued" and "ffmpeg exploded" in job.last_error
    assert all((folder / name).exists() for name in LIVE_FILES), os.listdir(folder)
    video = _replay(app, room_id)
    assert video is not None and not video.is_published  # its copy of the recording is stored

    monkeypatch.undo()
    _retry_now(app)
    assert run_pending(app) == 1
    video = _replay(app, room_id)
    assert video is not None and video.state == READY and video.is_published
    assert not folder.exists()
    assert os.listdir(app.config["LIVE_ROOT"]) == []


def test_a_replay_job_that_never_succeeds_leaves_everything(app, ended_room, monkeypatch):
    room_id, folder = ended_room
    monkeypatch.setattr(replay.pipeline, "transcode", lambda payload, ctx: 1 / 0)
    for _ in range(3):  # every attempt (enqueue's default), each once it is due
        assert run_pending(app) == 1
        _retry_now(app)
    with app.app_context():
        assert db.session.scalar(select(Job.state).where(Job.kind == REPLAY_JOB)) == "dead"
    assert _replay(app, room_id).state == "failed"
    assert all((folder / name).exists() for name in LIVE_FILES)


def test_a_rerun_after_publishing_clears_a_folder_left_behind(app, ended_room, monkeypatch):
    room_id, folder = ended_room
    removals = []
    monkeypatch.setattr(replay, "remove_room_folder", lambda *args: removals.append(args))
    assert run_pending(app) == 1  # published, then stopped before the folder went
    assert folder.exists() and len(removals) == 1
    monkeypatch.undo()
    with app.app_context():
        enqueue(db.session, REPLAY_JOB, {"room_id": services.access_room(db.session, room_id).id})
        db.session.commit()
    assert run_pending(app) == 1
    assert not folder.exists() and _replay(app, room_id).is_published

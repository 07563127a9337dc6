"""Out of disk space, on a really full filesystem: a clear 507, no partial files, no half video."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from commerce.extensions import db, socketio
from commerce.jobs.models import Job
from commerce.jobs.runner import run_pending
from commerce.timeutil import utcnow
from commerce.videos.models import Rendition, Video
from tests.commerce.live.ingest_support import wait_for
from tests.conftest import png_bytes, upload_video
from tests.live import log_in

pytestmark = pytest.mark.ffmpeg

OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def small_disk() -> Iterator[Callable[[Path], Path]]:
    """Mount a 2 MB tmpfs over a folder (root only); unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("a really full filesystem needs a tmpfs mount, which needs root")
    mounted: list[Path] = []

    def mount(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        argv = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {result.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        if subprocess.run(["umount", str(path)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def free_bytes(folder: Path) -> int:
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def used_bytes(folder: Path) -> int:
    stat = os.statvfs(folder)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def fill(folder: Path, *, leave: int) -> Path:
    """Take all the space of folder's filesystem but `leave` bytes."""
    filler = folder / "filler"
    with filler.open("wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, max(free_bytes(folder) - leave, 1))
    return filler


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _job(app) -> Job:
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "video.transcode"))
        db.session.expunge(job)
        return job


def test_a_chunk_into_a_full_upload_folder_is_507_and_keeps_nothing_of_it(
    app, make_api, create_user, clips, small_disk
):
    folder = small_disk(Path(app.config["UPLOAD_TMP_DIR"]))
    api = make_api(create_user(creator=True))
    data = clips["good"].read_bytes()
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": len(data)}).get_json()
    url = f"/api/v1/uploads/{upload['id']}"
    part = folder / f"{upload['id']}.part"
    first = api.put(url, data=data[:50_000], headers={**OCTETS, "Upload-Offset": "0"})
    assert first.status_code == 200
    filler = fill(folder, leave=100_000)
    before = used_bytes(folder)

    failed = api.put(url, data=data[50_000:], headers={**OCTETS, "Upload-Offset": "50000"})

    assert failed.status_code == 507
    error = failed.get_json()["error"]
    assert error["code"] == "insufficient_storage"
    assert "space" in error["message"]
    assert error["fields"]["offset"] == "50000"  # where to resume
    assert part.stat().st_size == 50_000  # the partial chunk is gone ...
    assert used_bytes(folder) == before  # ... and so is the space it took
    assert files(folder) == sorted([part.name, filler.name])
    assert api.get(url).get_json()["received"] == 50_000

    filler.unlink()  # space comes back: the client resumes where the server said
    rest = api.put(url, data=data[50_000:], headers={**OCTETS, "Upload-Offset": "50000"})
    assert rest.status_code == 200 and rest.get_json()["received"] == len(data)
    assert api.post(f"{url}/complete").status_code == 201


def test_completing_into_full_storage_is_507_and_can_be_retried(
    app, make_api, create_user, clips, small_disk
):
    folder = small_disk(Path(app.config["STORAGE_LOCAL_ROOT"]))
    api = make_api(create_user(creator=True))
    data = clips["good"].read_bytes()
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": len(data)}).get_json()
    url = f"/api/v1/uploads/{upload['id']}"
    assert api.put(url, data=data, headers={**OCTETS, "Upload-Offset": "0"}).status_code == 200
    filler = fill(folder, leave=100_000)

    failed = api.post(f"{url}/complete")

    assert failed.status_code == 507
    assert failed.get_json()["error"]["code"] == "insufficient_storage"
    assert files(folder) == [filler.name]  # no half-copied source
    assert _count(app, Video) == 0 and _count(app, Job) == 0
    filler.unlink()
    assert api.post(f"{url}/complete").status_code == 201


def _transcode_with(app, make_api, create_user, clips, *, max_attempts: int):
    app.config["JOB_MAX_ATTEMPTS"] = max_attempts
    api = make_api(create_user(creator=True))
    video = upload_video(api, clips["good"]).get_json()
    return api, video


def _assert_nothing_left(app, api, video_id: str) -> dict:
    video = api.get(f"/api/v1/videos/{video_id}").get_json()
    assert not video["playable"] and video["master_url"] is None
    assert video["poster_url"] is None and video["fallback_url"] is None
    assert _count(app, Rendition) == 0
    storage = Path(app.config["STORAGE_LOCAL_ROOT"])
    stored = [f for f in files(storage) if f != "filler"]
    assert len(stored) == 1 and stored[0].endswith("source/original"), stored  # no orphan ladder
    work = Path(app.config["WORK_DIR"])
    assert [f for f in files(work) if f != "filler"] == []
    return video


@pytest.mark.parametrize(
    "leave",
    # The 3 s clip's instant rendition (its H.264 copied) takes ~370 kB, the ladder ~370 kB more.
    [100_000, 480_000],
    ids=["before-first-playable", "after-first-playable"],
)
def test_a_full_work_folder_fails_the_video_clearly(
    app, make_api, create_user, clips, small_disk, leave
):
    folder = small_disk(Path(app.config["WORK_DIR"]))
    fill(folder, leave=leave)
    api, video = _transcode_with(app, make_api, create_user, clips, max_attempts=1)
    watcher = socketio.test_client(app, flask_test_client=api.client)

    assert run_pending(app) == 1

    pushed = [e["args"][0] for e in watcher.get_received() if e["name"] == "video.progress"]
    assert any(p["playable"] for p in pushed) == (leave > 400_000), pushed
    assert not pushed[-1]["playable"] and pushed[-1]["state"] == "failed"
    assert "disk space" in pushed[-1]["error"]
    job = _job(app)
    assert job.state == "dead"
    assert "space" in job.last_error.lower() and "M3U8" not in job.last_error
    failed = _assert_nothing_left(app, api, video["id"])
    assert failed["state"] == "failed"
    assert failed["error"] == (
        "The server ran out of disk space while processing this video. "
        "Please upload it again later."
    )


def test_full_storage_fails_the_video_and_removes_the_stored_part_of_the_ladder(
    app, make_api, create_user, clips, small_disk
):
    folder = small_disk(Path(app.config["STORAGE_LOCAL_ROOT"]))
    api, video = _transcode_with(app, make_api, create_user, clips, max_attempts=1)
    fill(folder, leave=120_000)  # room for a few segments of the first rung, not all

    assert run_pending(app) == 1

    assert _job(app).state == "dead"
    failed = _assert_nothing_left(app, api, video["id"])
    assert failed["state"] == "failed" and "disk space" in failed["error"]


def test_a_retry_after_space_is_freed_makes_the_video_ready(
    app, make_api, create_user, clips, small_disk
):
    folder = small_disk(Path(app.config["WORK_DIR"]))
    filler = fill(folder, leave=320_000)
    api, video = _transcode_with(app, make_api, create_user, clips, max_attempts=3)

    assert run_pending(app) == 1  # the first attempt fails and backs off
    assert _job(app).state == "queued"
    waiting = _assert_nothing_left(app, api, video["id"])
    assert waiting["state"] == "processing"

    filler.unlink()
    with app.app_context():
        db.session.execute(update(Job).values(run_after=utcnow()))
        db.session.commit()
    assert run_pending(app) == 1

    ready = api.get(f"/api/v1/videos/{video['id']}").get_json()
    assert ready["state"] == "ready" and ready["playable"] and ready["error"] is None
    assert api.get(ready["master_url"]).status_code == 200
    assert _count(app, Rendition) == 1


@pytest.mark.parametrize("target", ["avatar", "product image"])
def test_an_image_into_full_storage_is_507_with_a_translated_message(
    app, make_api, create_user, create_product, small_disk, target
):
    folder = small_disk(Path(app.config["STORAGE_LOCAL_ROOT"]))
    user = create_user(merchant=True)
    api = make_api(user)
    if target == "avatar":
        url, field = "/api/v1/me/avatar", "avatar"
    else:
        url, field = f"/api/v1/products/{create_product(user).id}/images", "image"
    filler = fill(folder, leave=0)

    english = api.post(url, data={field: (png_bytes((800, 600)), "x.png")})
    api.client.set_cookie("lang", "zh_Hans")
    chinese = api.post(url, data={field: (png_bytes((800, 600)), "x.png")})

    assert english.status_code == chinese.status_code == 507
    assert english.get_json()["error"]["code"] == "insufficient_storage"
    assert "disk space" in english.get_json()["error"]["message"]
    assert "磁盘空间" in chinese.get_json()["error"]["message"]
    assert files(folder) == [filler.name]  # no half-written image
    filler.unlink()
    assert api.post(url, data={field: (png_bytes(), "x.png")}).status_code in (200, 201)


def test_the_served_app_fails_a_video_on_a_full_work_folder(
    app, create_user, clips, small_disk, processes
):
    """`flask serve` as `make run` starts it: its own job worker meets the full disk."""
    fill(small_disk(Path(app.config["WORK_DIR"])), leave=100_000)
    url = processes.serve(JOB_MAX_ATTEMPTS="1")
    http = log_in(url, create_user(creator=True).email)
    token = {"X-CSRFToken": http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]}
    data = clips["good"].read_bytes()
    upload = http.post(
        f"{url}/api/v1/uploads", json={"filename": "a.mp4", "size": len(data)}, headers=token
    ).json()
    put = http.put(
        f"{url}/api/v1/uploads/{upload['id']}",
        data=data,
        headers={**token, **OCTETS, "Upload-Offset": "0"},
    )
    assert put.status_code == 200, put.text
    done = http.post(f"{url}/api/v1/uploads/{upload['id']}/complete", headers=token)
    assert done.status_code == 201, done.text
    video_url = f"{url}/api/v1/videos/{done.json()['id']}"

    def failed() -> dict | None:
        video = http.get(video_url, timeout=10).json()
        return video if video["state"] == "failed" else None

    video = wait_for(failed, timeout=60, what="the served app's worker to fail the video")
    assert not video["playable"] and video["master_url"] is None
    assert "disk space" in video["error"], processes.logs()
    assert _job(app).state == "dead"

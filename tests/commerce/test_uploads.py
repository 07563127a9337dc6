"""Resumable uploads validated by content: good videos become jobs, bad ones leave nothing."""

import pytest
from sqlalchemy import func, select

from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.videos.models import Upload, Video
from tests.conftest import upload_video

pytestmark = pytest.mark.ffmpeg


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_chunked_upload_becomes_a_processing_video_with_a_job(app, make_api, create_user, clips):
    api = make_api(create_user(creator=True))
    response = upload_video(api, clips["good"], chunk=50_000)
    assert response.status_code == 201, response.get_json()
    video = response.get_json()
    assert video["state"] == "processing" and not video["published"]
    assert video["duration_ms"] == pytest.approx(3000, abs=100)
    with app.app_context():
        job = db.session.scalar(select(Job))
        assert job.kind == "video.transcode" and job.state == "queued"


def test_complete_is_idempotent(make_api, create_user, clips):
    api = make_api(create_user(creator=True))
    first = upload_video(api, clips["good"])
    upload_id = api.get("/api/v1/studio/videos").get_json()["items"][0]["id"]
    assert upload_id == first.get_json()["id"]


def test_resume_after_an_interrupted_chunk(app, make_api, create_user, clips):
    api = make_api(create_user(creator=True))
    data = clips["good"].read_bytes()
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": len(data)}).get_json()
    url = f"/api/v1/uploads/{upload['id']}"
    headers = {"Content-Type": "application/octet-stream"}
    assert (
        api.put(url, data=data[:1000], headers={**headers, "Upload-Offset": "0"}).status_code == 200
    )
    # A client that lost track of where it was gets told where to resume.
    wrong = api.put(url, data=data[5000:6000], headers={**headers, "Upload-Offset": "5000"})
    assert wrong.status_code == 409
    assert wrong.get_json()["error"]["fields"]["offset"] == "1000"
    assert api.get(url).get_json()["received"] == 1000
    rest = api.put(url, data=data[1000:], headers={**headers, "Upload-Offset": "1000"})
    assert rest.get_json()["received"] == len(data)
    assert api.post(f"{url}/complete").status_code == 201


def test_completing_an_incomplete_upload_is_a_conflict(make_api, create_user):
    api = make_api(create_user(creator=True))
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": 10}).get_json()
    response = api.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert response.status_code == 409


def test_chunk_past_declared_size_is_refused(make_api, create_user):
    api = make_api(create_user(creator=True))
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": 10}).get_json()
    response = api.put(
        f"/api/v1/uploads/{upload['id']}",
        data=b"x" * 11,
        headers={"Upload-Offset": "0", "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 400


def test_oversized_upload_is_refused_up_front(app, make_api, create_user):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    api = make_api(create_user(creator=True))
    response = api.post("/api/v1/uploads", {"filename": "big.mp4", "size": 1025})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "upload_too_large"
    assert _count(app, Upload) == 0


def test_only_creators_upload(make_api, create_user):
    response = make_api(create_user()).post("/api/v1/uploads", {"filename": "a.mp4", "size": 10})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("clip", "code"),
    [("text", "video_not_media"), ("truncated", "video_corrupt"), ("audio", "video_no_video")],
)
def test_bad_uploads_are_rejected_and_leave_nothing(
    app, make_api, create_user, clips, tmp_path, clip, code
):
    api = make_api(create_user(creator=True))
    response = upload_video(api, clips[clip])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert _count(app, Upload) == 0
    assert _count(app, Video) == 0
    assert _count(app, Job) == 0
    assert _files(tmp_path / "uploads") == []
    assert _files(tmp_path / "storage") == []


def test_too_long_video_is_rejected(app, make_api, create_user, clips, tmp_path):
    app.config["MAX_VIDEO_SECONDS"] = 1
    api = make_api(create_user(creator=True))
    response = upload_video(api, clips["good"])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "video_too_long"
    assert _files(tmp_path / "uploads") == [] and _count(app, Video) == 0


def test_abandoned_upload_is_deleted(app, make_api, create_user, tmp_path):
    api = make_api(create_user(creator=True))
    upload = api.post("/api/v1/uploads", {"filename": "a.mp4", "size": 10}).get_json()
    assert api.delete(f"/api/v1/uploads/{upload['id']}").status_code == 204
    assert _count(app, Upload) == 0 and _files(tmp_path / "uploads") == []


def test_stale_unfinished_uploads_are_swept(app, make_api, create_user, tmp_path):
    from datetime import timedelta

    from commerce.timeutil import utcnow
    from commerce.videos.uploads import sweep_stale_uploads

    api = make_api(create_user(creator=True))
    old = api.post("/api/v1/uploads", {"filename": "old.mp4", "size": 10}).get_json()
    fresh = api.post("/api/v1/uploads", {"filename": "new.mp4", "size": 10}).get_json()
    with app.app_context():
        db.session.execute(
            Upload.__table__.update()
            .where(Upload.public_id == old["id"])
            .values(updated_at=utcnow() - timedelta(days=2))
        )
        swept = sweep_stale_uploads(
            db.session,
            tmp_dir=app.config["UPLOAD_TMP_DIR"],
            older_than=utcnow() - timedelta(days=1),
        )
        db.session.commit()
    assert swept == 1
    assert api.get(f"/api/v1/uploads/{old['id']}").status_code == 404
    assert api.get(f"/api/v1/uploads/{fresh['id']}").status_code == 200
    assert [p.name for p in _files(tmp_path / "uploads")] == [f"{fresh['id']}.part"]

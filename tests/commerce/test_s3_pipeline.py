"""The whole video path on the S3 backend, over real HTTP to moto's S3 server."""

import boto3
import pytest

from app import create_app
from commerce.extensions import db
from commerce.jobs.runner import run_pending
from tests.conftest import ApiClient, dispose_engine, upload_video

pytestmark = [pytest.mark.s3, pytest.mark.ffmpeg]


@pytest.fixture
def s3_app(app, s3_server, tmp_path):
    settings = {**s3_server, "S3_PREFIX": "liveshop/"}
    s3_app = create_app({**app.config, **settings})
    yield s3_app, settings
    with s3_app.app_context():
        dispose_engine(db.engine)


def _keys(settings):
    client = boto3.client(
        "s3",
        endpoint_url=settings["S3_ENDPOINT_URL"],
        region_name=settings["S3_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    listing = client.list_objects_v2(Bucket=settings["S3_BUCKET"], Prefix="liveshop/")
    return [item["Key"] for item in listing.get("Contents", [])]


def test_upload_transcode_play_and_delete_on_s3(s3_app, create_user, clips):
    web, settings = s3_app
    creator = create_user(creator=True)
    api = ApiClient(web.test_client()).login(creator)
    video = upload_video(api, clips["good"]).get_json()
    assert any(key.endswith("/source/original") for key in _keys(settings))
    assert run_pending(web) == 1
    video = api.get(f"/api/v1/videos/{video['id']}").get_json()
    assert video["state"] == "ready"
    keys = _keys(settings)
    assert any(key.endswith("master.m3u8") for key in keys)
    assert any(key.endswith(".ts") for key in keys)
    # Playback through the app's media route, reading ranges from S3.
    full = api.get(video["fallback_url"])
    assert full.status_code == 200 and len(full.data) > 1000
    part = api.get(video["fallback_url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == full.data[100:200]
    assert api.get(video["master_url"]).get_data(as_text=True).startswith("#EXTM3U")
    assert api.delete(f"/api/v1/videos/{video['id']}").status_code == 204
    assert _keys(settings) == []


def test_cdn_base_url_is_used_for_playback(app, s3_server, create_user, clips):
    settings = {**s3_server, "S3_PREFIX": "liveshop/", "CDN_BASE_URL": "https://cdn.example.com/v"}
    web = create_app({**app.config, **settings})
    try:
        creator = create_user(creator=True)
        api = ApiClient(web.test_client()).login(creator)
        video = upload_video(api, clips["good"]).get_json()
        run_pending(web)
        video = api.get(f"/api/v1/videos/{video['id']}").get_json()
        assert video["master_url"].startswith("https://cdn.example.com/v/")
        assert video["master_url"].endswith("/hls/master.m3u8")
    finally:
        with web.app_context():
            dispose_engine(db.engine)

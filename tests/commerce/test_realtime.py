"""Events leave only after commit; a separate worker process reaches browsers through Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.extensions import db, socketio
from commerce.realtime import publish, user_room
from commerce.videos.models import Video
from tests.conftest import app_settings, dispose_engine, upload_video


def _names(client):
    return [event["name"] for event in client.get_received()]


def test_events_are_sent_after_commit_and_dropped_on_rollback(app, make_api, create_user):
    user = create_user()
    browser = socketio.test_client(app, flask_test_client=make_api(user).client)
    with app.app_context():
        publish(db.session, "hello", {"n": 1}, room=user_room(user.id))
        assert _names(browser) == []  # queued, not sent
        db.session.rollback()
        db.session.commit()
        assert _names(browser) == []
        publish(db.session, "hello", {"n": 2}, room=user_room(user.id))
        db.session.commit()
    received = browser.get_received()
    assert [(e["name"], e["args"][0]) for e in received] == [("hello", {"n": 2})]


def test_a_released_savepoint_is_not_the_commit(app, make_api, create_user):
    """SQLAlchemy fires after_commit for savepoints too: events must wait for the real commit."""
    user = create_user()
    browser = socketio.test_client(app, flask_test_client=make_api(user).client)
    with app.app_context():
        publish(db.session, "hello", {"n": 1}, room=user_room(user.id))
        with db.session.begin_nested():
            publish(db.session, "hello", {"n": 2}, room=user_room(user.id))
        assert _names(browser) == []  # the savepoint is released, the transaction goes on
        try:
            with db.session.begin_nested():
                publish(db.session, "hello", {"n": 3}, room=user_room(user.id))
                raise RuntimeError("a duplicate caught in its savepoint")
        except RuntimeError:
            pass
        assert _names(browser) == []
        db.session.commit()
    received = [(e["name"], e["args"][0]) for e in browser.get_received()]
    assert received == [("hello", {"n": 1}), ("hello", {"n": 2})]


def test_anonymous_socket_joins_no_user_room(app, create_user):
    user = create_user()
    browser = socketio.test_client(app)
    assert browser.is_connected()
    with app.app_context():
        publish(db.session, "private", {"secret": True}, room=user_room(user.id))
        db.session.commit()
    assert _names(browser) == []


@pytest.mark.ffmpeg
def test_a_separate_worker_process_transcodes_and_reaches_the_browser_through_redis(
    database_url, tmp_path, create_user, make_api, clips, app
):
    redis_url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {redis_url}")
    from app import create_app

    config = {
        **app_settings(database_url, tmp_path),
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "JOBS_MODE": "worker",
    }
    web = create_app(config)
    # The worker is another process: it gets the same settings through its environment.
    environ_names = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
    settings = {environ_names.get(k, k): str(v) for k, v in config.items() if k != "TESTING"}
    import socketio as socketio_client

    from tests.conftest import ApiClient
    from tests.live import LiveServer

    creator = create_user(creator=True)
    api = ApiClient(web.test_client()).login(creator)
    video_id = upload_video(api, clips["good"]).get_json()["id"]
    events: list[dict] = []
    env = {**os.environ, **settings, "FLASK_APP": "app"}
    root = Path(__file__).resolve().parents[2]
    with LiveServer(web) as server:
        http = server.login(creator.email)
        browser = socketio_client.Client()
        browser.on("video.progress", events.append)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        browser.connect(server.url, headers={"Cookie": cookie}, transports=["polling"])
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "worker"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 90
            state = None
            while time.monotonic() < deadline:
                with web.app_context():
                    state = db.session.scalar(
                        select(Video.state).where(Video.public_id == video_id)
                    )
                    db.session.remove()
                if state != "processing" and events and events[-1]["state"] != "processing":
                    break
                time.sleep(0.3)
            assert state == "ready"
        finally:
            worker.terminate()
            output = worker.communicate(timeout=10)[0]
            browser.disconnect()
            with web.app_context():
                dispose_engine(db.engine)
    assert events, output
    assert any(e["playable"] for e in events)
    assert events[-1]["state"] == "ready"

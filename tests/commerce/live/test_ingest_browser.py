"""Browser ingest over the app's WebSocket, and the low-latency FLV feed, on a real server."""

from __future__ import annotations

import json
import threading

import pytest
import requests
import simple_websocket

from commerce.live.replay import REPLAY_JOB
from tests.commerce.live.ingest_support import (
    feed_file,
    ingest_app,
    ingest_socket,
    jobs_of,
    make_webm_clip,
    refusal,
    room_row,
    wait_for,
)
from tests.live import LiveServer


@pytest.fixture
def app(database_url, tmp_path):
    yield from ingest_app(database_url, tmp_path, LIVE_GRACE_SECONDS=3, LIVE_FLV_MAX_VIEWERS=1)


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None  # the server answers on 127.0.0.1:<port>
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def webm(tmp_path_factory):
    return make_webm_clip(tmp_path_factory.mktemp("webm"))


@pytest.mark.ffmpeg
def test_browser_chunks_make_the_room_live_and_end_makes_the_replay_job(
    app, server, host, make_room, webm
):
    _api, room_id = make_room(live=False)
    ws = ingest_socket(server, room_id, server.login(host.email))
    feed_file(ws, webm)
    wait_for(lambda: room_row(app, room_id).state == "live", what="the room going live")
    master = requests.get(f"{server.url}/live/{room_id}/hls/master.m3u8", timeout=10)
    assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text
    ws.send(json.dumps({"type": "end"}))
    assert refusal(ws)[0] == 1000
    room = room_row(app, room_id)
    assert room.state == "ended" and room.ended_at is not None
    assert [job.payload for job in jobs_of(app, REPLAY_JOB)] == [{"room_id": room.id}]


@pytest.mark.ffmpeg
def test_a_dropped_socket_resumes_within_the_grace_in_the_same_room(
    app, server, host, make_room, webm
):
    _api, room_id = make_room(live=False)
    http = server.login(host.email)
    first = ingest_socket(server, room_id, http)
    feed_file(first, webm)
    first.close()  # the tab reloaded
    media = wait_for(lambda: app.extensions["live_ingest"].media_room(room_id))
    second = ingest_socket(server, room_id, http)
    feed_file(second, webm)
    assert media.parts == 2 and app.extensions["live_ingest"].media_room(room_id) is media
    assert room_row(app, room_id).state == "live"
    second.send(json.dumps({"type": "end"}))
    assert refusal(second)[0] == 1000
    assert media.recording is not None
    assert room_row(app, room_id).state == "ended"


@pytest.mark.ffmpeg
def test_flv_feed_streams_to_anonymous_viewers_up_to_the_cap(app, server, host, make_room, webm):
    _api, room_id = make_room(live=False)
    ws = ingest_socket(server, room_id, server.login(host.email))
    pushing = threading.Thread(target=feed_file, args=(ws, webm), kwargs={"seconds": 6})
    pushing.start()
    try:
        wait_for(lambda: room_row(app, room_id).state == "live", what="the room going live")
        viewer = simple_websocket.Client.connect(
            f"{server.url.replace('http', 'ws')}/live/{room_id}/flv"
        )
        first = viewer.receive(timeout=10)
        assert first.startswith(b"FLV")
        full = requests.get(f"{server.url}/live/{room_id}/flv", timeout=10)
        assert full.status_code == 503  # LIVE_FLV_MAX_VIEWERS=1
        viewer.close()
        wait_for(lambda: not app.extensions["live_ingest"]._viewers, what="the slot freed")
        with requests.get(f"{server.url}/live/{room_id}/flv", stream=True, timeout=10) as http:
            assert http.status_code == 200 and http.headers["Content-Type"] == "video/x-flv"
            assert next(http.iter_content(3)) == b"FLV"
    finally:
        pushing.join()
        ws.close()


def test_flv_of_a_room_that_is_not_on_air_is_404(server, make_room):
    _api, room_id = make_room(live=False)
    assert requests.get(f"{server.url}/live/{room_id}/flv", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/live/nope/flv", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("who", "token", "origin", "code"),
    [
        ("stranger", None, None, 4403),  # logged in, not the room's creator
        ("anonymous", None, None, 4401),  # a valid token, but nobody logged in
        ("host", "not-the-token", None, 1008),
        ("host", None, "http://evil.example", 1008),
    ],
)
def test_ingest_is_refused_with_a_reason(
    server, host, create_user, make_room, who, token, origin, code
):
    _api, room_id = make_room(live=False)
    users = {"host": host, "stranger": create_user(creator=True)}
    http = server.login(users[who].email) if who in users else requests.Session()
    ws = ingest_socket(server, room_id, http, token=token, origin=origin)
    closed, reason = refusal(ws)
    assert closed == code and reason


def test_ingest_into_an_ended_room_is_refused(server, host, make_room):
    api, room_id = make_room(live=True)
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    ws = ingest_socket(server, room_id, server.login(host.email))
    assert refusal(ws) == (4409, "This live has ended.")


def test_ingest_needs_a_websocket(server, make_room):
    _api, room_id = make_room(live=False)
    assert requests.get(f"{server.url}/live/{room_id}/ingest", timeout=10).status_code == 400

"""RTMP ingest into the app with the real ffmpeg: the room goes live, its HLS is served."""

from __future__ import annotations

import os

import pytest

from commerce.live.replay import REPLAY_JOB
from media.live import RtmpIngestServer
from media.live.playlist import parse_live_playlist
from tests.commerce.live.conftest import events
from tests.commerce.live.ingest_support import (
    ingest_app,
    jobs_of,
    make_live_clip,
    room_row,
    stream_key,
    wait_for,
)
from tests.media.live.conftest import finish, push_rtmp

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def app(database_url, tmp_path):
    yield from ingest_app(database_url, tmp_path, LIVE_GRACE_SECONDS=2)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_live_clip(tmp_path_factory.mktemp("rtmp-clip"))


@pytest.fixture
def rtmp(app):
    server = RtmpIngestServer(app.extensions["live_ingest"].hub, port=0).start()
    yield server
    server.stop()


def test_rtmp_push_makes_the_room_live_and_serves_its_hls(
    app, make_room, rtmp, clip, client, connect
):
    api, room_id = make_room(live=False)
    viewer = connect()
    assert viewer.emit("live.join", {"room": room_id}, callback=True)["ok"]
    viewer.get_received()
    push = push_rtmp(clip, rtmp.port, stream_key(api, room_id))
    wait_for(lambda: room_row(app, room_id).state == "live", what="the room going live")
    assert room_row(app, room_id).started_at is not None
    # The viewers learn it after the commit: the state, and where the media is.
    got: list = []

    def both_sent() -> bool:
        got.extend(events(viewer))
        return {"live.state", "live.stream"} <= {name for name, _ in got}

    wait_for(both_sent, what="the state and stream events")
    assert ("live.state", "live") in [(name, p.get("state")) for name, p in got]
    stream = next(p for name, p in got if name == "live.stream")
    assert stream["stream"] == "live" and stream["hls_url"] == f"/live/{room_id}/hls/master.m3u8"

    master = client.get(f"/live/{room_id}/hls/master.m3u8")
    assert master.status_code == 200
    assert master.mimetype == "application/vnd.apple.mpegurl"
    assert master.headers["Cache-Control"] == "no-cache"
    assert "360p/index.m3u8" in master.get_data(as_text=True)
    index = client.get(f"/live/{room_id}/hls/360p/index.m3u8")
    assert index.status_code == 200
    playlist = parse_live_playlist(index.get_data(as_text=True))
    segment = client.get(f"/live/{room_id}/hls/360p/{playlist.segments[-1].uri}")
    assert segment.status_code == 200 and segment.mimetype == "video/mp2t"
    assert segment.get_data()[:1] == b"\x47"  # an MPEG-TS sync byte
    segment.close()

    assert finish(push)[0] == 0
    # The push is over: after the grace the room ends, its playlist stays with ENDLIST.
    wait_for(lambda: room_row(app, room_id).state == "ended", what="the room ending")
    wait_for(lambda: jobs_of(app, REPLAY_JOB), what="the replay job")
    ended = client.get(f"/live/{room_id}/hls/360p/index.m3u8").get_data(as_text=True)
    assert ended.rstrip().endswith("#EXT-X-ENDLIST")


def test_a_wrong_key_is_refused_and_the_room_stays_scheduled(app, make_room, rtmp, clip, client):
    api, room_id = make_room(live=False)
    key = stream_key(api, room_id)
    code, _err = finish(push_rtmp(clip, rtmp.port, key[:-2] + "xx"), timeout=15)
    assert code != 0
    assert room_row(app, room_id).state == "scheduled"
    assert not os.path.exists(os.path.join(app.config["LIVE_ROOT"], room_id))
    assert client.get(f"/live/{room_id}/hls/master.m3u8").status_code == 404


def test_a_dropped_push_that_resumes_within_the_grace_stays_one_room(
    app, make_room, rtmp, clip, client
):
    api, room_id = make_room(live=False)
    key = stream_key(api, room_id)
    assert finish(push_rtmp(clip, rtmp.port, key))[0] == 0
    media = app.extensions["live_ingest"].media_room(room_id)
    assert media is not None
    assert finish(push_rtmp(clip, rtmp.port, key))[0] == 0  # OBS reconnects within 2 s
    assert app.extensions["live_ingest"].media_room(room_id) is media and media.parts == 2
    assert room_row(app, room_id).state == "live"
    assert media.wait_ended(30)
    wait_for(lambda: room_row(app, room_id).state == "ended", what="the room ending")
    text = client.get(f"/live/{room_id}/hls/360p/index.m3u8").get_data(as_text=True)
    assert "#EXT-X-DISCONTINUITY" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(jobs_of(app, REPLAY_JOB)) == 1


@pytest.mark.parametrize("port", [0, None])
def test_rtmp_starts_only_when_configured(app, port):
    import socket

    if port is None:  # a free port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    app.config["LIVE_RTMP_PORT"] = port
    live = app.extensions["live_ingest"]
    server = live.start_rtmp()
    if port == 0:
        assert server is None and not live.started
        result = app.test_cli_runner().invoke(args=["live-ingest"])
        assert result.exit_code != 0 and "LIVE_RTMP_PORT is 0" in result.output
    else:
        assert server is not None and server.port == port and live.started

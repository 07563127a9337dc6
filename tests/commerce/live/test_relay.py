"""A web node serving a room ingested elsewhere: proxied HLS, relayed FLV, the token, one hop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.live.models import LiveRoom
from commerce.live.relay import (
    RELAY_HEADER,
    LiveMediaOrigin,
    relay_token,
    sweep_ended_folders,
    token_opens,
)
from commerce.timeutil import utcnow
from commerce.videos.models import Video
from media.live.flv import FlvParser
from tests.media.live.origin_stub import OriginStub, video_tag

PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg_00007.ts\n"


@pytest.fixture
def origin() -> Iterator[OriginStub]:
    stub = OriginStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def live_room(app, make_room):
    """A live room whose media another node holds: returns (public id, set_origin)."""
    _api, public_id = make_room(live=True)

    def set_origin(base_url: str) -> None:
        with app.app_context():
            room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
            db.session.merge(LiveMediaOrigin(room_id=room.id, base_url=base_url))
            db.session.commit()

    return public_id, set_origin


@pytest.mark.parametrize(
    ("secret", "room", "age_s", "opens"),
    [
        ("s3cret", "room1", 0, True),
        ("other", "room1", 0, False),  # another deployment's key
        ("s3cret", "room2", 0, False),  # another room's token
        ("s3cret", "room1", 31, False),  # too old: a token opens the request it came with
    ],
)
def test_a_relay_token_opens_only_its_room_with_our_key_while_fresh(
    monkeypatch, secret, room, age_s, opens
):
    made_at = time.time() - age_s
    monkeypatch.setattr(time, "time", lambda: made_at)
    token = relay_token(secret, room)
    monkeypatch.undo()
    assert token_opens("s3cret", token, "room1") is opens


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_a_missing_or_malformed_token_opens_nothing(token):
    assert token_opens("s3cret", token, "room1") is False


def test_hls_the_node_lacks_is_fetched_from_the_origin_with_a_token(app, client, live_room, origin):
    public_id, set_origin = live_room
    set_origin(origin.url)
    path = f"/live/{public_id}/hls/360p/index.m3u8"
    origin.files[f"{path}?_HLS_msn=7"] = (200, "application/vnd.apple.mpegurl", PLAYLIST)
    answer = client.get(f"{path}?_HLS_msn=7")
    assert answer.status_code == 200 and answer.get_data() == PLAYLIST
    assert answer.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert answer.headers["Cache-Control"] == "no-cache"
    [seen] = origin.seen
    assert token_opens(app.config["SECRET_KEY"], seen.headers[RELAY_HEADER], public_id)
    # The origin's refusal reaches the player as it is.
    assert client.get(f"/live/{public_id}/hls/360p/seg_00001.ts").status_code == 404


def test_the_flv_feed_is_relayed_from_the_origin_and_ends_with_it(client, live_room, origin):
    public_id, set_origin = live_room
    set_origin(origin.url)
    origin.flv.put(video_tag(0, key=True) + video_tag(40, key=False))
    origin.flv.put(None)
    answer = client.get(f"/live/{public_id}/flv")
    assert answer.status_code == 200 and answer.mimetype == "video/x-flv"
    body = answer.get_data()  # the relay ended with the origin's stream: so did this one
    assert body[:3] == b"FLV"
    assert [t.timestamp_ms for t in FlvParser().feed(body)] == [0, 0, 0, 40]
    assert [s.path for s in origin.seen] == [f"/live/{public_id}/flv"]


def test_a_request_from_another_node_is_never_relayed_again(app, client, live_room, origin):
    public_id, set_origin = live_room
    set_origin(origin.url)
    headers = {RELAY_HEADER: relay_token(app.config["SECRET_KEY"], public_id)}
    assert client.get(f"/live/{public_id}/flv", headers=headers).status_code == 404
    assert client.get(f"/live/{public_id}/hls/master.m3u8", headers=headers).status_code == 404
    assert origin.seen == []  # one hop: no loop between two nodes that each lack the room


def test_the_origin_being_this_node_is_not_fetched(app, client, live_room, origin):
    public_id, set_origin = live_room
    set_origin(origin.url)
    app.config["LIVE_INTERNAL_URL"] = origin.url + "/"
    assert client.get(f"/live/{public_id}/hls/master.m3u8").status_code == 404
    assert origin.seen == []


def test_an_unreachable_origin_is_a_404_with_a_message(client, live_room):
    public_id, set_origin = live_room
    set_origin("http://127.0.0.1:9")  # nothing listens on the discard port
    for path in ("flv", "hls/master.m3u8"):
        answer = client.get(f"/live/{public_id}/{path}")
        assert answer.status_code == 404, path
        assert "This live is not on air." in answer.get_data(as_text=True)


@pytest.mark.parametrize("url", ["10.0.0.5:8000", "ftp://10.0.0.5", "http://"])
def test_a_node_url_the_others_could_not_use_is_refused_at_start(make_app, url):
    with pytest.raises(RuntimeError, match="LIVE_INTERNAL_URL"):
        make_app(LIVE_INTERNAL_URL=url)


def test_an_origin_sweeps_the_folders_of_rooms_whose_replay_is_out(app, make_room, tmp_path):
    rooms = [make_room(live=True)[1] for _ in range(3)]
    root = tmp_path / "origin-live"
    for public_id in [*rooms, "not-a-room"]:
        (root / public_id / "360p").mkdir(parents=True)
        (root / public_id / "360p" / "index.m3u8").write_text("#EXTM3U\n")
    with app.app_context():
        found = {r.public_id: r for r in db.session.scalars(select(LiveRoom))}
        for public_id, state, published in [(rooms[0], "ready", True), (rooms[1], "ready", False)]:
            video = Video(
                public_id=f"rp{public_id[:10]}",
                creator_id=found[public_id].creator_id,
                title="Replay",
                state=state,
                published_at=utcnow() if published else None,
            )
            db.session.add(video)
            db.session.flush()
            found[public_id].replay_video_id = video.id
        db.session.commit()
        assert sweep_ended_folders(db.session(), str(root)) == [rooms[0]]
    # Published: gone. Unpublished replay, no replay yet, unknown folder: kept.
    assert sorted(p.name for p in root.iterdir()) == sorted([rooms[1], rooms[2], "not-a-room"])

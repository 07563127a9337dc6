"""The replay: a show's recording becomes a published video with its pins; the timeline API."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commerce.extensions import db
from commerce.jobs.runner import run_pending
from commerce.live.models import LiveChatMessage, LivePin, LiveRoom
from commerce.live.replay import REPLAY_JOB, ReplayPart, offset_ms, replay_pin_window
from commerce.orders.models import FlashSale, OrderLine
from commerce.videos.models import Video
from tests.commerce.live.ingest_support import (
    ingest_app,
    jobs_of,
    make_webm_clip,
    room_row,
    wait_for,
)


@pytest.fixture
def app(database_url, tmp_path):
    yield from ingest_app(database_url, tmp_path, LIVE_GRACE_SECONDS=30)


@pytest.fixture(scope="module")
def webm(tmp_path_factory):
    return make_webm_clip(tmp_path_factory.mktemp("replay-webm"))


T0 = datetime(2026, 1, 1, 20, 0, 0)


@pytest.mark.parametrize(
    ("pinned", "unpinned", "window"),
    [
        (1.5, 4.0, (1500, 4000)),
        (-2.0, 3.0, (0, 3000)),  # pinned before the show started: from its first frame
        (5.0, None, (5000, None)),  # still pinned at the end
        (5.0, 20.0, (5000, None)),  # unpinned after the recording's end: until the end
        (12.0, 13.0, None),  # after the recording's end
        (3.0, 3.0, None),  # pinned and unpinned in the same instant
    ],
)
def test_pins_become_video_pins_at_their_offsets(pinned, unpinned, window):
    at = T0 + timedelta(seconds=pinned)
    until = T0 + timedelta(seconds=unpinned) if unpinned is not None else None
    assert replay_pin_window(at, until, [ReplayPart(T0, None)], duration_ms=10_000) == window


# The recording is 10 s long; End was pressed at 9.5 s (the chunks in flight make the rest).
@pytest.mark.parametrize(
    ("pinned", "unpinned", "closed_by_end", "window"),
    [
        (5.0, 9.5, True, (5000, None)),  # closed by End: to the last frame
        (5.0, 9.2, True, (5000, None)),  # closed by an End whose moment is not the room's
        (5.0, 12.0, True, (5000, None)),  # closed by End after the recording's end
        (5.0, 9.5, False, (5000, 9500)),  # the host unpinned it at End's very moment
        (5.0, 9.2, False, (5000, 9200)),  # the host unpinned it just before End
        (5.0, 10.0, False, (5000, None)),  # the host unpinned it at the recording's end
        (11.0, 11.0, True, None),  # pinned and closed after the recording's end
        (9.5, 9.5, True, (9500, None)),  # pinned at End's moment: its last half second
    ],
)
def test_a_pin_closed_by_the_end_lasts_to_the_end_of_the_replay(
    pinned, unpinned, closed_by_end, window
):
    at, until = T0 + timedelta(seconds=pinned), T0 + timedelta(seconds=unpinned)
    clock = [ReplayPart(T0, 10_000)]
    got = replay_pin_window(at, until, clock, duration_ms=10_000, closed_by_end=closed_by_end)
    assert got == window


# The media arrived 2 s after Go live; the ingest dropped from 12 s to 15 s and resumed.
TWO_PARTS = [
    ReplayPart(T0 + timedelta(seconds=2), 10_000),
    ReplayPart(T0 + timedelta(seconds=15), 5_000),
]


@pytest.mark.parametrize(
    ("moment", "offset"),
    [
        (0.0, 0),  # Go live pressed, no media yet: where the recording begins
        (2.0, 0),
        (5.5, 3_500),
        (13.0, 10_000),  # in the gap: where the second part begins
        (16.0, 11_000),
        (19.9, 14_900),
        (30.0, 15_000),  # after the last part: the end
    ],
)
def test_show_moments_are_placed_on_the_recording_parts(moment, offset):
    assert offset_ms(T0 + timedelta(seconds=moment), TWO_PARTS) == offset


def test_a_pin_across_a_gap_spans_it_in_the_replay():
    pinned, unpinned = T0 + timedelta(seconds=11), T0 + timedelta(seconds=17)
    assert replay_pin_window(pinned, unpinned, TWO_PARTS, duration_ms=15_000) == (9_000, 12_000)


def _feed(publisher, path: str, chunk_ms: int = 250, seconds: float = 3.0) -> None:
    data = Path(path).read_bytes()
    size = -(-len(data) // max(1, round(seconds * 1000 / chunk_ms)))
    for i in range(0, len(data), size):
        publisher.feed(data[i : i + size])
        time.sleep(chunk_ms / 1000)
    publisher.close()


def _set_moments(app, room_id: str, shelf) -> datetime:
    """Move the show's pins, flash sale and chat to known offsets from the recording's start."""
    with app.app_context():
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == room_id))
        # The media layer's timeline: one part, from the first bytes of the ingest (the room went
        # live a little later, once the first segment was playable).
        [part] = room.media_timeline
        assert 2500 <= part["duration_ms"] <= 3800
        start = datetime.fromisoformat(part["started_at"])
        assert timedelta(0) <= room.started_at - start < timedelta(seconds=10)
        at = {pin.product_id: pin for pin in db.session.scalars(select(LivePin))}
        at[shelf[0].id].pinned_at = start + timedelta(milliseconds=500)
        at[shelf[0].id].unpinned_at = start + timedelta(milliseconds=1500)
        at[shelf[1].id].pinned_at = start + timedelta(seconds=2)
        # Closed by End, at a moment short of the recording's end (chunks in flight) and not the
        # room's ended_at (a second End raced the first): still up to the last frame.
        assert at[shelf[1].id].closed_by_end and not at[shelf[0].id].closed_by_end
        at[shelf[1].id].unpinned_at = start + timedelta(milliseconds=2500)
        assert at[shelf[1].id].unpinned_at != room.ended_at
        db.session.execute(
            update(FlashSale).values(
                starts_at=start + timedelta(seconds=1), ends_at=start + timedelta(seconds=1.5)
            )
        )
        db.session.execute(
            update(LiveChatMessage).values(created_at=start + timedelta(milliseconds=1200))
        )
        db.session.commit()
        db.session.remove()
        return start


@pytest.mark.ffmpeg
def test_ending_makes_a_published_replay_with_the_pins_and_a_timeline(
    app, make_room, make_api, host, shelf, create_user, webm, client
):
    api, room_id = make_room(live=False)
    room_url = f"/api/v1/live/rooms/{room_id}"
    _feed(app.extensions["live_ingest"].hub.publish(room_id, "webm"), webm)
    wait_for(lambda: room_row(app, room_id).state == "live", what="the room going live")
    assert api.post(f"{room_url}/pins", {"product_id": shelf[0].id}).status_code == 201
    flash = {"product_id": shelf[0].id, "price_minor": 500, "duration_seconds": 60, "quantity": 5}
    assert api.post(f"{room_url}/flash-sales", flash).status_code == 201
    assert api.delete(f"{room_url}/pins/{shelf[0].id}").status_code == 200
    assert api.post(f"{room_url}/pins", {"product_id": shelf[1].id}).status_code == 201
    viewer = make_api(create_user(name="Viewer"))
    assert viewer.post(f"{room_url}/chat", {"text": "<b>how much?</b>"}).status_code == 201

    # The creator ends the show through the API: the ingest's room ends with it.
    assert api.post(f"{room_url}/end").status_code == 200
    wait_for(lambda: jobs_of(app, REPLAY_JOB), what="the replay job")
    assert client.get(f"/live/{room_id}/hls/360p/index.m3u8").status_code == 200
    start = _set_moments(app, room_id, shelf)
    assert run_pending(app) == 1

    with app.app_context():
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == room_id))
        video = db.session.get(Video, room.replay_video_id)
        assert video.state == "ready" and video.is_published and video.playable
        assert video.creator_id == host.id and video.title == "Tea tasting"
        assert 2500 <= video.duration_ms <= 3800
        pins = [(p.product_id, p.start_ms, p.end_ms) for p in video.pins]
        assert pins == [(shelf[0].id, 500, 1500), (shelf[1].id, 2000, None)]
        replay_id = video.public_id
        db.session.remove()
    # The replay is ready: the live playlists are no longer served, and their folder is gone.
    assert client.get(f"/live/{room_id}/hls/360p/index.m3u8").status_code == 404
    assert not (Path(app.config["LIVE_ROOT"]) / room_id).exists()

    timeline = client.get(f"{room_url}/replay-timeline").get_json()
    assert timeline["replay"]["id"] == replay_id and timeline["replay"]["url"] == f"/v/{replay_id}"
    assert timeline["started_at"] > start.isoformat()  # Go live came after the first bytes
    assert [(p["product"]["id"], p["start_s"], p["end_s"]) for p in timeline["pins"]] == [
        (shelf[0].id, 0.5, 1.5),
        (shelf[1].id, 2.0, None),  # closed by End: to the end
    ]
    [sale] = timeline["flash_sales"]
    assert (sale["start_s"], sale["end_s"], sale["pin_id"]) == (1.0, 1.5, timeline["pins"][0]["id"])
    assert timeline["pins"][0]["flash_sale_ids"] == [sale["id"]]
    [message] = timeline["chat"]
    assert message["at_s"] == 1.2 and message["text"] == "<b>how much?</b>"
    assert "<b>" not in message["html"]
    assert timeline["chat_next"] is None

    # Bought from the replay (its room as the source): the host is credited.
    buyer = make_api(create_user())
    address = buyer.post(
        "/api/v1/addresses", {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "SH"}
    ).get_json()["id"]
    item = {"product_id": shelf[1].id, "quantity": 1, "source_kind": "live", "source_key": room_id}
    response = buyer.post(
        "/api/v1/orders",
        {"address_id": address, "items": [item]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.scalars(select(OrderLine.creator_id)).all() == [host.id]


def test_the_timeline_of_a_show_that_never_started_is_refused(make_room, client):
    _api, room_id = make_room(live=False)
    response = client.get(f"/api/v1/live/rooms/{room_id}/replay-timeline")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_started"
    assert client.get("/api/v1/live/rooms/nope/replay-timeline").status_code == 404


def test_the_timeline_pages_its_chat(app, make_room, make_api, create_user, client, monkeypatch):
    from commerce.live import replay_api

    _api, room_id = make_room(live=True)
    viewer = make_api(create_user())
    for n in range(3):
        assert (
            viewer.post(f"/api/v1/live/rooms/{room_id}/chat", {"text": f"m{n}"}).status_code == 201
        )
    monkeypatch.setattr(replay_api, "CHAT_PAGE", 2)
    first = client.get(f"/api/v1/live/rooms/{room_id}/replay-timeline").get_json()
    assert [m["text"] for m in first["chat"]] == ["m0", "m1"] and first["replay"] is None
    url = f"/api/v1/live/rooms/{room_id}/replay-timeline?chat_after={first['chat_next']}"
    second = client.get(url).get_json()
    assert [m["text"] for m in second["chat"]] == ["m2"] and second["chat_next"] is None
    bad = client.get(f"/api/v1/live/rooms/{room_id}/replay-timeline?chat_after=x")
    assert bad.status_code == 400


def test_hls_paths_outside_the_room_folder_are_404(make_room, client):
    _api, room_id = make_room(live=True)
    for path in ("../secret_key", "360p/../../x.m3u8", "recording.mp4", "360p/seg_1.mp4", "x"):
        assert client.get(f"/live/{room_id}/hls/{path}").status_code == 404, path
    assert client.get("/live/nope/hls/master.m3u8").status_code == 404
    assert client.get(f"/live/{room_id}/hls/master.m3u8").status_code == 404  # no media yet

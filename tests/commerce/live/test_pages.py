"""The live pages: who may open each, what they show, both languages, escaping, no 500s."""

from __future__ import annotations

import json
import re

import pytest

from commerce.extensions import db
from commerce.live.models import LiveRoom
from commerce.timeutil import utcnow
from commerce.videos.models import Video

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US"}


def page(client, url, headers=EN):
    response = client.get(url, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def test_studio_pages_need_a_login_then_creator_mode(client, make_api, create_user):
    for url in ("/studio/live", "/studio/live/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert make_api(create_user()).get(url, headers=EN).status_code == 403


def test_studio_lists_my_rooms_with_their_state(make_room, make_api, host):
    _api, live_id = make_room(live=True)
    _api, scheduled_id = make_room(live=False)
    status, html = page(make_api(host).client, "/studio/live")
    assert status == 200
    assert f"/studio/live/{live_id}" in html and f"/studio/live/{scheduled_id}" in html
    assert "LIVE" in html and "Upcoming" in html and "Schedule a live" in html


def test_the_schedule_form_offers_products_and_the_edit_form_keeps_the_shelf(
    make_room, make_api, host, shelf
):
    client = make_api(host).client
    status, html = page(client, "/studio/live/new")
    assert status == 200 and 'id="room-form"' in html and 'data-method="POST"' in html
    assert all(f'value="{p.id}"' in html for p in shelf)
    _api, room_id = make_room(live=False, products=shelf[:2])
    status, html = page(client, f"/studio/live/{room_id}/edit")
    assert status == 200 and 'data-method="PATCH"' in html
    assert html.count("checked>") == 2


def test_only_the_host_sees_the_control_page(make_room, make_api, create_user, client):
    host_api, room_id = make_room(live=False)
    url = f"/studio/live/{room_id}"
    status, html = page(host_api.client, url)
    assert status == 200 and 'id="live-control"' in html and "rtmp://" in html
    assert "Go live" in html and "End live" in html and "Make a stream key" in html
    assert page(make_api(create_user()).client, url)[0] == 403  # not a creator
    assert page(make_api(create_user(creator=True)).client, url)[0] == 404  # not theirs
    assert page(make_api(create_user(creator=True)).client, f"{url}/edit")[0] == 404
    assert client.get(url).status_code == 302  # anonymous: log in first
    assert page(host_api.client, "/studio/live/nope")[0] == 404


@pytest.mark.parametrize("live", [True, False])
def test_the_room_page_is_public_and_shows_its_state(make_room, client, live):
    _api, room_id = make_room(live=live)
    status, html = page(client, f"/live/{room_id}")
    assert status == 200 and 'id="live-room"' in html
    assert f'data-state="{"live" if live else "scheduled"}"' in html
    assert f"/live/{room_id}/hls/master.m3u8" in html and f"/live/{room_id}/flv" in html
    assert 'aria-live="polite"' in html and "Log in to chat" in html
    assert 'data-target-kind="live"' in html  # the share button


def test_an_ended_room_links_to_its_published_replay(app, make_room, client, host):
    api, room_id = make_room(live=True)
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    status, html = page(client, f"/live/{room_id}")
    assert status == 200 and "The replay is not available yet." in html
    # The link is there, hidden, for the live.replay event to show it without a reload.
    assert re.search(r'id="replay-ready"\s+hidden', html)
    assert not re.search(r'id="replay-pending"\s+hidden', html)
    with app.app_context():
        video = Video(
            public_id="replay123",
            creator_id=host.id,
            title="Replay",
            state="ready",
            playable=True,
            published_at=utcnow(),
        )
        db.session.add(video)
        db.session.flush()
        room = db.session.scalar(db.select(LiveRoom).where(LiveRoom.public_id == room_id))
        room.replay_video_id = video.id
        db.session.commit()
    status, html = page(client, f"/live/{room_id}")
    assert 'href="/v/replay123"' in html and not re.search(r'id="replay-ready"\s+hidden', html)
    assert re.search(r'id="replay-pending"\s+hidden', html)
    status, html = page(client, "/v/replay123")
    assert status == 200 and 'id="replay-panel"' in html and "live-replay.js" in html
    assert f'data-room="{room_id}"' in html  # the replay's drawer credits the room


@pytest.mark.parametrize(
    ("headers", "flash"),
    [
        (EN, "Flash sale in the live: %(title)s at %(price)s — ended, now %(now)s"),
        (ZH, "直播中的限时秒杀：%(title)s，%(price)s（已结束），现价 %(now)s"),
    ],
)
def test_the_replay_tells_a_flash_sale_as_past_in_both_languages(
    app, make_room, client, host, headers, flash
):
    api, room_id = make_room(live=True)
    assert api.post(f"/api/v1/live/rooms/{room_id}/end").status_code == 200
    with app.app_context():
        video = Video(public_id="replay456", creator_id=host.id, title="Replay", state="ready")
        video.playable, video.published_at = True, utcnow()
        db.session.add(video)
        db.session.flush()
        db.session.scalar(
            db.select(LiveRoom).where(LiveRoom.public_id == room_id)
        ).replay_video_id = video.id
        db.session.commit()
    _status, html = page(client, "/v/replay456", headers)
    found = re.search(
        r'<script type="application/json" id="replay-i18n">(.*?)</script>', html, re.S
    )
    assert found is not None and json.loads(found.group(1))["flash"] == flash


def test_unknown_room_is_a_404_page(client):
    status, html = page(client, "/live/does-not-exist")
    assert status == 404 and "<html" in html


def test_user_text_is_escaped(app, make_api, host, client):
    api = make_api(host)
    title = '<script>alert("x")</script>'
    room_id = api.post("/api/v1/live/rooms", {"title": title}).get_json()["id"]
    api.post(f"/api/v1/live/rooms/{room_id}/start")
    api.post(f"/api/v1/live/rooms/{room_id}/chat", {"text": "<img src=x onerror=alert(1)>"})
    for url in (f"/live/{room_id}", f"/studio/live/{room_id}", "/studio/live", "/"):
        status, html = page(api.client if "studio" in url else client, url)
        assert status == 200, url
        assert "<script>alert" not in html and "<img src=x" not in html, url


def test_live_rooms_show_on_the_feed_and_the_creator_page(make_room, client, host):
    _api, live_id = make_room(live=True)
    _api, later_id = make_room(live=False)
    status, html = page(client, "/")
    assert status == 200 and 'id="live-strip"' in html and f"/live/{live_id}" in html
    assert f"/live/{later_id}" not in html
    status, html = page(client, f"/c/{host.id}")
    assert f"/live/{live_id}" in html and f"/live/{later_id}" in html


def test_no_strip_without_live_rooms(client):
    assert 'id="live-strip"' not in page(client, "/")[1]


@pytest.mark.parametrize("headers,words", [(ZH, ["直播", 'lang="zh-Hans"']), (EN, ["Live"])])
def test_pages_render_in_both_languages(make_room, make_api, host, client, headers, words):
    host_api, room_id = make_room(live=True)
    for browser, url in [
        (host_api.client, "/studio/live"),
        (host_api.client, "/studio/live/new"),
        (host_api.client, f"/studio/live/{room_id}"),
        (host_api.client, f"/studio/live/{room_id}/edit"),
        (client, f"/live/{room_id}"),
    ]:
        status, html = page(browser, url, headers)
        assert status == 200, url
        assert all(word in html for word in words), url


def test_the_obs_card_shows_the_configured_rtmp_port_or_says_rtmp_is_off(app, make_room):
    host_api, room_id = make_room(live=False)
    url = f"/studio/live/{room_id}"
    app.config.update(LIVE_RTMP_URL=None, LIVE_RTMP_PORT=19350)
    status, html = page(host_api.client, url)
    assert status == 200 and ":19350/live" in html and ":1935/" not in html
    app.config.update(LIVE_RTMP_PORT=0)
    status, html = page(host_api.client, url)
    assert status == 200 and 'id="rtmp-off"' in html and "rtmp://" not in html
    app.config.update(LIVE_RTMP_URL="rtmp://ingest.example:1940/live")
    status, html = page(host_api.client, url)
    assert 'value="rtmp://ingest.example:1940/live"' in html and 'id="rtmp-off"' not in html

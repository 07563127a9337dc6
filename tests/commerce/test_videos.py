"""Processing, publishing, pins, the feed, views and who may see or change what."""

import pytest
from sqlalchemy import select

from commerce.extensions import db, socketio
from commerce.jobs.runner import run_pending
from commerce.videos.models import Video
from tests.conftest import upload_video

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def ready_video(app, make_api, create_user, clips):
    """A creator's processed (draft) video: returns (api logged in as creator, video JSON)."""
    creator = create_user(creator=True)
    api = make_api(creator)
    video = upload_video(api, clips["good"]).get_json()
    assert run_pending(app) == 1
    video = api.get(f"/api/v1/videos/{video['id']}").get_json()
    return api, video


def test_processing_makes_a_playable_ladder_poster_and_sprite(ready_video):
    api, video = ready_video
    assert video["state"] == "ready" and video["playable"] and video["progress"] == 100
    master = api.get(video["master_url"])
    assert master.status_code == 200
    text = master.get_data(as_text=True)
    assert text.startswith("#EXTM3U") and "#EXT-X-STREAM-INF" in text
    # 240p source: one rung at most, never upscaled.
    assert "RESOLUTION=320x240" in text and "720" not in text
    first_playlist = next(line for line in text.splitlines() if line.endswith(".m3u8"))
    base = video["master_url"].rsplit("/", 1)[0]
    playlist = api.get(f"{base}/{first_playlist}").get_data(as_text=True)
    assert "#EXT-X-ENDLIST" in playlist
    poster = api.get(video["poster_url"])
    assert poster.status_code == 200 and poster.data[:3] == b"\xff\xd8\xff"
    assert video["sprite"]["tiles"] > 0
    assert api.get(video["fallback_url"]).status_code == 200


def test_media_supports_range_requests(ready_video):
    api, video = ready_video
    full = api.get(video["fallback_url"]).data
    part = api.get(video["fallback_url"], headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.data == full[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(full)}"
    suffix = api.get(video["fallback_url"], headers={"Range": "bytes=-5"})
    assert suffix.data == full[-5:]
    beyond = api.get(video["fallback_url"], headers={"Range": f"bytes={len(full) + 5}-"})
    assert beyond.status_code == 416


def test_progress_is_pushed_to_the_creator_over_socketio(app, make_api, create_user, clips):
    creator = create_user(creator=True)
    api = make_api(creator)
    watcher = socketio.test_client(app, flask_test_client=api.client)
    stranger = socketio.test_client(app, flask_test_client=make_api(create_user()).client)
    assert watcher.is_connected()
    upload_video(api, clips["good"])
    run_pending(app)
    events = [e for e in watcher.get_received() if e["name"] == "video.progress"]
    states = [e["args"][0] for e in events]
    assert any(s["playable"] and s["state"] == "processing" for s in states), states
    assert states[-1]["state"] == "ready" and states[-1]["progress"] == 100
    assert [e for e in stranger.get_received() if e["name"] == "video.progress"] == []


def test_publish_needs_a_playable_video_and_a_title(app, make_api, create_user, clips):
    api = make_api(create_user(creator=True))
    video = upload_video(api, clips["good"]).get_json()
    early = api.post(f"/api/v1/videos/{video['id']}/publish")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_playable"
    run_pending(app)
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "", "description": ""})
    untitled = api.post(f"/api/v1/videos/{video['id']}/publish")
    assert untitled.status_code == 400 and "title" in untitled.get_json()["error"]["fields"]
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "Tea time", "description": "d"})
    published = api.post(f"/api/v1/videos/{video['id']}/publish")
    assert published.status_code == 200 and published.get_json()["published"]


def test_feed_lists_only_published_videos_and_pages(app, make_api, create_user, ready_video):
    api, video = ready_video
    viewer = make_api()
    assert viewer.get("/api/v1/feed").get_json()["items"] == []
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "One", "description": ""})
    api.post(f"/api/v1/videos/{video['id']}/publish")
    feed = viewer.get("/api/v1/feed").get_json()
    assert [v["id"] for v in feed["items"]] == [video["id"]]
    assert feed["items"][0]["error"] is None  # processing details stay with the owner
    assert viewer.get("/api/v1/feed?cursor=%%%").status_code == 400


def test_feed_cursor_pages_through_everything(app, create_user):
    from datetime import timedelta

    from commerce.timeutil import utcnow
    from commerce.videos.services import feed_page

    creator = create_user(creator=True)
    with app.app_context():
        now = utcnow()
        for i in range(7):
            db.session.add(
                Video(
                    public_id=f"v{i}",
                    creator_id=creator.id,
                    title=f"v{i}",
                    playable=True,
                    published_at=now - timedelta(seconds=i % 3),
                )
            )
        db.session.commit()
        seen, cursor = [], None
        while True:
            items, cursor = feed_page(db.session, cursor=cursor, limit=3)
            seen += [v.public_id for v in items]
            if cursor is None:
                break
    assert sorted(seen) == [f"v{i}" for i in range(7)] and len(seen) == 7


def test_pins_validate_times_and_products(app, ready_video, create_user, create_product):
    api, video = ready_video
    merchant = create_user(merchant=True)
    product = create_product(merchant)
    inactive = create_product(merchant, is_active=False)
    url = f"/api/v1/videos/{video['id']}/pins"
    ok = api.post(url, {"product_id": product.id, "start_ms": 2000, "end_ms": 2900})
    assert ok.status_code == 201
    assert ok.get_json()["product"]["price_display"] == "¥12.90"
    cases = [
        ({"product_id": product.id, "start_ms": 5000}, "start_ms"),
        ({"product_id": product.id, "start_ms": 100, "end_ms": 9000}, "end_ms"),
        ({"product_id": product.id, "start_ms": 500, "end_ms": 400}, "body"),
        ({"product_id": inactive.id, "start_ms": 0}, "product_id"),
        ({"product_id": 999999, "start_ms": 0}, "product_id"),
        ({"product_id": product.id, "start_ms": -1}, "start_ms"),
    ]
    for body, field in cases:
        response = api.post(url, body)
        assert response.status_code == 400, body
        assert field in response.get_json()["error"]["fields"], (body, response.get_json())
    pins = api.get(f"/api/v1/videos/{video['id']}").get_json()["pins"]
    assert [(p["start_ms"], p["end_ms"]) for p in pins] == [(2000, 2900)]
    assert api.delete(f"{url}/{pins[0]['id']}").status_code == 204
    assert api.get(f"/api/v1/videos/{video['id']}").get_json()["pins"] == []


def test_pins_of_products_taken_off_sale_are_hidden_from_viewers(
    app, ready_video, make_api, create_user, create_product
):
    api, video = ready_video
    merchant = create_user(merchant=True)
    product = create_product(merchant)
    api.post(f"/api/v1/videos/{video['id']}/pins", {"product_id": product.id, "start_ms": 0})
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "T", "description": ""})
    api.post(f"/api/v1/videos/{video['id']}/publish")
    make_api(merchant).put(
        f"/api/v1/products/{product.id}",
        {"title": "Tea cup", "price_minor": 1290, "stock": 1, "is_active": False},
    )
    assert make_api().get(f"/api/v1/videos/{video['id']}").get_json()["pins"] == []
    assert len(api.get(f"/api/v1/videos/{video['id']}").get_json()["pins"]) == 1


def test_views_are_counted_once_per_browser_session(ready_video, make_api):
    api, video = ready_video
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "T", "description": ""})
    api.post(f"/api/v1/videos/{video['id']}/publish")
    first, second = make_api(), make_api()
    url = f"/api/v1/videos/{video['id']}/views"
    counted = first.post(url)
    assert counted.get_json()["view_count"] == 1
    assert first.post(url).get_json()["view_count"] == 1
    assert second.post(url).get_json()["view_count"] == 2
    # Its own cookie: the ping never rewrites the session (it could undo another request's
    # change, such as a share link's commission disclosure).
    cookies = counted.headers.getlist("Set-Cookie")
    assert any(c.startswith("viewed=") for c in cookies)
    assert not any(c.startswith("session=") for c in cookies)


def test_a_signed_in_request_does_not_rewrite_the_session_cookie(make_api, create_user):
    api = make_api(create_user())
    response = api.get("/api/v1/feed")
    assert response.status_code == 200
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_cover_frame_rerenders_the_poster(app, ready_video):
    api, video = ready_video
    response = api.put(f"/api/v1/videos/{video['id']}/cover", {"cover_ms": 2500})
    assert response.status_code == 200
    assert api.put(f"/api/v1/videos/{video['id']}/cover", {"cover_ms": 99_000}).status_code == 400
    assert run_pending(app) == 1
    updated = api.get(f"/api/v1/videos/{video['id']}").get_json()
    assert updated["poster_url"] != video["poster_url"] and "poster-2500" in updated["poster_url"]
    assert api.get(updated["poster_url"]).status_code == 200
    assert api.get(video["poster_url"]).status_code == 404


def test_delete_removes_rows_and_media(app, ready_video, tmp_path):
    api, video = ready_video
    assert api.delete(f"/api/v1/videos/{video['id']}").status_code == 204
    assert api.get(f"/api/v1/videos/{video['id']}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Video)) is None
    leftovers = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert leftovers == []


def test_another_creator_can_neither_see_nor_change_a_draft(
    app, ready_video, make_api, create_user, create_product
):
    api, video = ready_video
    vid = video["id"]
    product = create_product(create_user(merchant=True))
    pin = api.post(f"/api/v1/videos/{vid}/pins", {"product_id": product.id, "start_ms": 0})
    pin_id = pin.get_json()["id"]
    other = make_api(create_user(creator=True))
    anonymous = make_api()
    attempts = [
        ("GET", f"/api/v1/videos/{vid}", None),
        ("PATCH", f"/api/v1/videos/{vid}", {"title": "mine now", "description": ""}),
        ("PUT", f"/api/v1/videos/{vid}/cover", {"cover_ms": 0}),
        ("POST", f"/api/v1/videos/{vid}/pins", {"product_id": product.id, "start_ms": 0}),
        ("DELETE", f"/api/v1/videos/{vid}/pins/{pin_id}", None),
        ("POST", f"/api/v1/videos/{vid}/publish", None),
        ("POST", f"/api/v1/videos/{vid}/unpublish", None),
        ("DELETE", f"/api/v1/videos/{vid}", None),
        ("POST", f"/api/v1/videos/{vid}/views", None),
        ("GET", video["master_url"], None),
        ("GET", video["poster_url"], None),
        ("GET", f"/v/{vid}", None),
        ("GET", f"/studio/videos/{vid}", None),
    ]
    for method, url, body in attempts:
        response = other.request(method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        response = anonymous.request(method, url, body)
        assert response.status_code in (401, 404, 302), (method, url, response.status_code)
    assert api.get(f"/api/v1/videos/{vid}").get_json()["title"] != "mine now"
    assert len(api.get(f"/api/v1/videos/{vid}").get_json()["pins"]) == 1
    # The source upload is never served, not even to its owner.
    source = f"/media/videos/{vid}/source/original"
    assert api.get(source).status_code == 404


def test_another_creator_cannot_touch_an_upload(make_api, create_user):
    owner = make_api(create_user(creator=True))
    upload = owner.post("/api/v1/uploads", {"filename": "a.mp4", "size": 10}).get_json()
    other = make_api(create_user(creator=True))
    url = f"/api/v1/uploads/{upload['id']}"
    assert other.get(url).status_code == 404
    assert other.put(url, data=b"x", headers={"Upload-Offset": "0"}).status_code == 404
    assert other.post(f"{url}/complete").status_code == 404
    assert other.delete(url).status_code == 404
    assert owner.get(url).get_json()["received"] == 0


def test_published_video_is_public_but_still_only_editable_by_its_creator(
    ready_video, make_api, create_user
):
    api, video = ready_video
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "Public", "description": ""})
    api.post(f"/api/v1/videos/{video['id']}/publish")
    other = make_api(create_user(creator=True))
    assert other.get(f"/api/v1/videos/{video['id']}").status_code == 200
    assert other.get(video["master_url"]).status_code == 200
    assert other.patch(f"/api/v1/videos/{video['id']}", {"title": "x"}).status_code == 404
    assert make_api().client.get(f"/v/{video['id']}").status_code == 200
    assert make_api().client.get("/").status_code == 200


def test_a_video_pin_shows_its_products_running_flash_sale(
    app, ready_video, make_api, create_user, create_product
):
    from datetime import timedelta

    from commerce.timeutil import rfc3339, utcnow

    api, video = ready_video
    merchant = create_user(merchant=True)
    product = create_product(merchant, price_minor=12900, stock=20)
    assert (
        api.post(
            f"/api/v1/videos/{video['id']}/pins", {"product_id": product.id, "start_ms": 0}
        ).status_code
        == 201
    )
    api.patch(f"/api/v1/videos/{video['id']}", {"title": "Tea time", "description": "d"})
    assert api.post(f"/api/v1/videos/{video['id']}/publish").status_code == 200
    card = api.get(f"/api/v1/videos/{video['id']}").get_json()["pins"][0]["product"]
    assert card["flash"] is None
    now = utcnow()
    flash = {
        "price_minor": 5990,
        "starts_at": rfc3339(now - timedelta(seconds=1)),
        "ends_at": rfc3339(now + timedelta(minutes=5)),
        "quantity": 5,
    }
    assert (
        make_api(merchant).post(f"/api/v1/products/{product.id}/flash-sales", flash).status_code
        == 201
    )
    viewer = make_api()
    for card in (
        viewer.get(f"/api/v1/videos/{video['id']}").get_json()["pins"][0]["product"],
        viewer.get("/api/v1/feed").get_json()["items"][0]["pins"][0]["product"],
    ):
        assert card["price_display"] == "¥129.00"
        assert card["flash"]["price_display"] == "¥59.90"
        assert 290 < card["flash"]["seconds_left"] <= 300 and card["flash"]["seconds_to_start"] == 0
    page = viewer.get(f"/v/{video['id']}").get_data(as_text=True)
    assert "59.90" in page and '"flash": {' in page  # the watch page's snapshot has it

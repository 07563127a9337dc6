"""The live JSON API: the same rules as the events, permissions on every room, no 500s."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from commerce.extensions import db
from commerce.live import services
from commerce.timeutil import utcnow
from tests.conftest import dispose_engine, png_bytes

ROOMS = "/api/v1/live/rooms"


def test_only_creators_schedule_rooms_and_the_shelf_must_exist(make_api, create_user, shelf):
    viewer = make_api(create_user())
    refused = viewer.post(ROOMS, {"title": "Mine", "featured_product_ids": []})
    assert refused.status_code == 403
    creator = make_api(create_user(creator=True))
    unknown = creator.post(ROOMS, {"title": "Mine", "featured_product_ids": [shelf[0].id, 99999]})
    assert (
        unknown.status_code == 400
        and "99999" in unknown.get_json()["error"]["fields"]["featured_product_ids"]
    )
    twice = creator.post(ROOMS, {"title": "Mine", "featured_product_ids": [shelf[0].id] * 2})
    assert twice.status_code == 400
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert creator.post(ROOMS, {"title": "Mine", "scheduled_at": past}).status_code == 400
    future = (utcnow() + timedelta(hours=1)).isoformat() + "Z"
    made = creator.post(
        ROOMS, {"title": "Mine", "scheduled_at": future, "featured_product_ids": [shelf[1].id]}
    )
    assert made.status_code == 201
    body = made.get_json()
    assert body["state"] == "scheduled" and [p["id"] for p in body["shelf"]] == [shelf[1].id]
    assert body["has_stream_key"] is False


@pytest.mark.parametrize(
    "payload",
    [None, [], {"title": ""}, {"title": "x" * 200}, {"title": "ok", "featured_product_ids": "1"}],
)
def test_bad_input_is_a_400_with_a_message(make_api, host, payload):
    response = make_api(host).post(ROOMS, payload)
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_another_creator_gets_404_or_403_on_my_room(make_room, make_api, create_user, shelf):
    _mine, room_id = make_room()
    other = make_api(create_user(creator=True, merchant=True))
    room = f"{ROOMS}/{room_id}"
    for method, url, body in [
        ("PATCH", room, {"title": "Hijacked"}),
        ("POST", f"{room}/stream-key", None),
        ("POST", f"{room}/start", None),
        ("POST", f"{room}/end", None),
        ("POST", f"{room}/pins", {"product_id": shelf[0].id}),
        ("DELETE", f"{room}/pins/{shelf[0].id}", None),
        (
            "POST",
            f"{room}/flash-sales",
            {"product_id": shelf[0].id, "price_minor": 1, "duration_seconds": 60, "quantity": 1},
        ),
        ("GET", f"{room}/dashboard", None),
        ("GET", f"{room}/moderators", None),
        ("POST", f"{room}/moderators", {"user_id": 1}),
    ]:
        response = other.request(method, url, body)
        assert response.status_code == 404, (method, url, response.get_json())
    for method, url, body in [
        ("PUT", f"{room}/settings", {"slow_mode_seconds": 5}),
        ("POST", f"{room}/mutes", {"user_id": 1}),
        ("POST", f"{room}/bans", {"user_id": 1}),
        ("DELETE", f"{room}/chat/1", None),
    ]:
        response = other.request(method, url, body)
        assert response.status_code == 403, (method, url, response.get_json())
    anonymous = make_api()
    assert anonymous.post(f"{room}/end").status_code == 401
    assert other.get(room).get_json()["title"] == "Tea tasting"  # rooms are public to view


def test_the_host_runs_a_show_through_the_api(make_room, shelf):
    api, room_id = make_room(live=False)
    room = f"{ROOMS}/{room_id}"
    edited = api.patch(
        room, {"title": "Evening tea", "featured_product_ids": [shelf[2].id, shelf[0].id]}
    )
    assert [p["id"] for p in edited.get_json()["shelf"]] == [shelf[2].id, shelf[0].id]
    assert api.post(f"{room}/pins", {"product_id": shelf[1].id}).status_code == 400  # not on shelf
    assert api.post(f"{room}/start").get_json()["state"] == "live"
    assert api.post(f"{room}/start").status_code == 409
    pins = api.post(f"{room}/pins", {"product_id": shelf[0].id})
    assert pins.status_code == 201 and len(pins.get_json()["pins"]) == 1
    assert api.post(f"{room}/pins", {"product_id": shelf[0].id}).status_code == 409
    flash = api.post(
        f"{room}/flash-sales",
        {"product_id": shelf[0].id, "price_minor": 100, "duration_seconds": 60, "quantity": 3},
    )
    assert flash.status_code == 201 and flash.get_json()["pins"][0]["flash"]["remaining"] == 3
    too_dear = api.post(
        f"{room}/flash-sales",
        {"product_id": shelf[2].id, "price_minor": 10**9, "duration_seconds": 60, "quantity": 3},
    )
    assert too_dear.status_code == 400  # shelf[2] is not pinned
    assert api.delete(f"{room}/pins/{shelf[2].id}").status_code == 404
    ended = api.post(f"{room}/end")
    assert ended.get_json()["state"] == "ended" and ended.get_json()["ended_at"]
    assert api.post(f"{room}/end").status_code == 409  # ending twice is an error
    assert api.get(f"{room}/pins").get_json()["pins"] == []
    history = api.get(f"{room}/pins/history").get_json()
    assert [p["unpinned_at"] is not None for p in history["pins"]] == [True]
    assert api.patch(room, {"title": "Too late"}).status_code == 409
    assert api.post(f"{room}/chat", {"text": "anyone?"}).status_code == 409


def test_stream_keys_are_shown_once_and_authorised_by_hash(app, make_room):
    api, room_id = make_room(live=False)
    first = api.post(f"{ROOMS}/{room_id}/stream-key").get_json()["stream_key"]
    second = api.post(f"{ROOMS}/{room_id}/stream-key").get_json()["stream_key"]
    assert first != second and first.startswith(room_id)
    assert api.get(f"{ROOMS}/{room_id}").get_json()["has_stream_key"] is True
    with app.app_context():
        assert services.authorize_stream_key(db.session, second) == room_id
        assert services.authorize_stream_key(db.session, first) is None  # rotated away
        for bad in (
            "",
            "nope",
            f"{room_id}.",
            f"{room_id}.x" * 40,
            "other." + second.split(".")[1],
        ):
            assert services.authorize_stream_key(db.session, bad) is None
        room = services.access_room(db.session, room_id)
        assert second not in (room.stream_key_hash or "")  # only the hash is kept
    api.post(f"{ROOMS}/{room_id}/end")
    with app.app_context():
        assert services.authorize_stream_key(db.session, second) is None  # ended rooms refuse
    assert api.post(f"{ROOMS}/{room_id}/stream-key").status_code == 409


def test_cover_upload_replaces_the_old_image(make_room):
    api, room_id = make_room(live=False)
    url = f"{ROOMS}/{room_id}/cover"
    first = api.put(url, data={"image": (png_bytes(), "a.png")}, content_type="multipart/form-data")
    assert first.status_code == 200 and first.get_json()["cover_url"]
    second = api.put(
        url, data={"image": (png_bytes(colour="blue"), "b.png")}, content_type="multipart/form-data"
    )
    assert second.get_json()["cover_url"] != first.get_json()["cover_url"]
    assert api.client.get(first.get_json()["cover_url"]).status_code == 404
    assert api.client.get(second.get_json()["cover_url"]).status_code == 200
    not_image = api.put(
        url,
        data={"image": (png_bytes().__class__(b"text"), "c.png")},
        content_type="multipart/form-data",
    )
    assert not_image.status_code == 400
    assert api.put(url, data={}, content_type="multipart/form-data").status_code == 400


def test_chat_and_moderation_through_the_api(make_room, make_api, create_user, tick):
    api, room_id = make_room()
    room = f"{ROOMS}/{room_id}"
    viewer_user = create_user()
    viewer = make_api(viewer_user)
    posted = viewer.post(f"{room}/chat", {"text": "<i>hi</i>"})
    assert posted.status_code == 201 and posted.get_json()["html"] == "&lt;i&gt;hi&lt;/i&gt;"
    assert viewer.post(f"{room}/chat", {"text": "   "}).status_code == 400
    assert make_api().post(f"{room}/chat", {"text": "hi"}).status_code == 401
    assert [m["text"] for m in make_api().get(f"{room}/chat").get_json()["items"]] == ["<i>hi</i>"]
    assert (
        api.put(f"{room}/settings", {"slow_mode_seconds": 60}).get_json()["slow_mode_seconds"] == 60
    )
    assert viewer.post(f"{room}/chat", {"text": "again"}).status_code == 429
    assert api.post(f"{room}/mutes", {"user_id": viewer_user.id, "seconds": 60}).status_code == 201
    assert viewer.post(f"{room}/chat", {"text": "muted?"}).status_code == 403
    assert api.delete(f"{room}/mutes/{viewer_user.id}").status_code == 204
    assert api.delete(f"{room}/mutes/{viewer_user.id}").status_code == 404
    assert api.post(f"{room}/bans", {"user_id": viewer_user.id}).status_code == 204
    assert api.post(f"{room}/moderators", {"user_id": viewer_user.id}).status_code == 409
    assert api.delete(f"{room}/bans/{viewer_user.id}").status_code == 204
    assert api.post(f"{room}/moderators", {"user_id": 987654}).status_code == 404
    message_id = posted.get_json()["id"]
    assert viewer.delete(f"{room}/chat/{message_id}").status_code == 403
    assert api.delete(f"{room}/chat/{message_id}").status_code == 204
    assert make_api().get(f"{room}/chat").get_json()["items"] == []


def test_the_dashboard_counts_viewers_hearts_chat_clicks_orders_and_gmv(
    app, make_room, make_api, create_user, connect, shelf, tick
):
    api, room_id = make_room()
    room = f"{ROOMS}/{room_id}"
    viewer_user = create_user()
    viewer = connect(viewer_user)
    assert viewer.emit("live.join", {"room": room_id}, callback=True)["ok"]
    viewer.emit("live.heart", {"room": room_id, "count": 7}, callback=True)
    viewer.emit("live.click", {"room": room_id, "product_id": shelf[0].id}, callback=True)
    assert make_api().post(f"{room}/clicks", {"product_id": shelf[0].id}).status_code == 200
    assert make_api().post(f"{room}/clicks", {"product_id": 424242}).status_code == 400
    api.post(f"{room}/pins", {"product_id": shelf[0].id})
    make_api(viewer_user).post(f"{room}/chat", {"text": "how much?"})
    buyer = make_api(create_user())
    address = buyer.post(
        "/api/v1/addresses", {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "SH"}
    ).get_json()["id"]
    order = buyer.post(
        "/api/v1/orders",
        {
            "address_id": address,
            "items": [
                {
                    "product_id": shelf[0].id,
                    "quantity": 2,
                    "source_kind": "live",
                    "source_key": room_id,
                }
            ],
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert order.status_code == 201
    tick()
    board = api.get(f"{room}/dashboard").get_json()
    assert board["current_viewers"] == 1 and board["peak_viewers"] == 1
    assert board["hearts"] == 7 and board["chat_messages"] == 1 and board["product_clicks"] == 2
    assert board["orders"] == 1 and board["gmv_minor"] == {}  # placed, not yet paid
    product = next(p for p in board["products"] if p["product_id"] == shelf[0].id)
    assert (product["clicks"], product["orders"], product["units"]) == (2, 1, 2)
    assert product["pinned_seconds"] >= 0
    assert board["series"] and sum(p["hearts"] for p in board["series"]) == 7
    assert sum(p["orders"] for p in board["series"]) == 1
    assert sum(p["chat_messages"] for p in board["series"]) == 1
    assert max(p["viewers"] for p in board["series"]) == 1

    # Paid, then partly refunded: GMV counts what the buyer did not get back.
    from commerce.orders.models import Order

    with app.app_context():
        placed = db.session.scalar(db.select(Order))
        placed.state, placed.lines[0].refunded_minor = "partially_refunded", 500
        placed.refunded_minor = 500
        paid_amount = placed.lines[0].amount_minor
        db.session.commit()
    board = api.get(f"{room}/dashboard").get_json()
    assert board["gmv_minor"] == {"CNY": paid_amount - 500}
    product = next(p for p in board["products"] if p["product_id"] == shelf[0].id)
    assert product["gmv_minor"] == paid_amount - 500

    # Ended: the viewer's page is still connected, but nobody is watching the show any more.
    assert api.post(f"{room}/end").status_code == 200
    board = api.get(f"{room}/dashboard").get_json()
    assert board["state"] == "ended" and board["current_viewers"] == 0
    assert board["peak_viewers"] == 1


def test_live_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in (
        "/api/v1/live/rooms",
        "/api/v1/live/rooms/{room_id}/pins",
        "/api/v1/live/rooms/{room_id}/chat",
        "/api/v1/live/rooms/{room_id}/dashboard",
        "/api/v1/live/rooms/{room_id}/snapshot",
    ):
        assert path in spec["paths"], path


def test_orders_from_a_room_that_went_live_credit_its_creator(
    app, make_room, make_api, create_user, create_product, host
):
    from sqlalchemy import select

    from commerce.orders.models import OrderLine

    seller = create_user(merchant=True)
    product = create_product(seller, title="Their tea")
    _api, live_id = make_room(products=[product])
    _api, scheduled_id = make_room(products=[product], live=False)
    buyer = make_api(create_user())
    address = buyer.post(
        "/api/v1/addresses", {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "SH"}
    ).get_json()["id"]
    for key in (live_id, scheduled_id, "no-such-room"):
        item = {"product_id": product.id, "quantity": 1, "source_kind": "live", "source_key": key}
        response = buyer.post(
            "/api/v1/orders",
            {"address_id": address, "items": [item]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.get_json()
    with app.app_context():
        creators = db.session.scalars(select(OrderLine.creator_id).order_by(OrderLine.id)).all()
    assert creators == [host.id, None, None]


def test_the_fanout_loop_ticks_by_itself(database_url, tmp_path, create_user):
    """With an interval, the first join starts one background loop that sends the batches."""
    import time

    from app import create_app
    from commerce.extensions import socketio
    from tests.conftest import ApiClient, app_settings

    app = create_app({**app_settings(database_url, tmp_path), "LIVE_FANOUT_INTERVAL_MS": 30})
    hub = app.extensions["live_fanout"]
    try:
        host = create_user(creator=True)
        api = ApiClient(app.test_client()).login(host)
        room_id = api.post(ROOMS, {"title": "Loop"}).get_json()["id"]
        viewer = socketio.test_client(app, flask_test_client=api.client)
        assert viewer.emit("live.join", {"room": room_id}, callback=True)["ok"]
        viewer.emit("live.heart", {"room": room_id, "count": 3}, callback=True)
        deadline, hearts = time.monotonic() + 5, None
        while time.monotonic() < deadline and hearts is None:
            for event in viewer.get_received():
                if event["name"] == "live.counters" and "hearts" in event["args"][0]:
                    hearts = event["args"][0]["hearts"]
            time.sleep(0.02)
        assert hearts == 3
    finally:
        hub.stop()
        time.sleep(0.1)
        with app.app_context():
            dispose_engine(db.engine)

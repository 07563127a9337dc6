"""Buying from a live's replay: today's price, credited to the room, shares of the replay count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from commerce.attribution.crediting import do_credit_order, policy_from_config
from commerce.attribution.models import Share, ShareClick
from commerce.extensions import db
from commerce.live import services
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from commerce.videos.models import READY, Video

ROOMS = "/api/v1/live/rooms"


@pytest.fixture
def replayed(app, make_room, shelf, host) -> tuple[str, str]:
    """A show that ran a flash sale (¥5.00 for a ¥10.00 product), ended, and has its replay."""
    api, room_id = make_room()
    assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": shelf[0].id}).status_code == 201
    flash = {"product_id": shelf[0].id, "price_minor": 500, "duration_seconds": 600, "quantity": 5}
    assert api.post(f"{ROOMS}/{room_id}/flash-sales", flash).status_code == 201
    assert api.post(f"{ROOMS}/{room_id}/end").status_code == 200
    with app.app_context():
        video = Video(public_id=f"rp{uuid.uuid4().hex[:10]}", creator_id=host.id, title="Tea")
        video.state, video.playable, video.published_at = READY, True, utcnow()
        db.session.add(video)
        db.session.flush()
        services.access_room(db.session, room_id).replay_video_id = video.id
        db.session.commit()
        return room_id, video.public_id


def _buy_from_the_replay(buyer, product_id: int, room_id: str):
    address = buyer.post(
        "/api/v1/addresses", {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "SH"}
    ).get_json()["id"]
    # What the replay page's drawer sends (feed.js): the room as the source.
    item = {"product_id": product_id, "quantity": 1, "source_kind": "live", "source_key": room_id}
    response = buyer.post(
        "/api/v1/orders",
        {"address_id": address, "items": [item]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_replays_drawer_shows_and_charges_the_list_price_and_credits_the_room(
    app, replayed, make_api, create_user, shelf, host, client
):
    room_id, _video_id = replayed
    timeline = client.get(f"{ROOMS}/{room_id}/replay-timeline").get_json()
    [sale] = timeline["flash_sales"]
    assert sale["price_minor"] == 500  # what happened in the live, for the banner

    buyer = make_api(create_user())
    info = buyer.get(f"/api/v1/products/{shelf[0].id}/buy-info").get_json()
    assert info["flash"] is None
    assert info["unit_price_minor"] == info["list_price_minor"] == shelf[0].price_minor == 1000
    _buy_from_the_replay(buyer, shelf[0].id, room_id)
    with app.app_context():
        [line] = db.session.scalar(select(Order)).lines
        assert (line.unit_price_minor, line.amount_minor) == (1000, 1000)
        assert (line.source_kind, line.source_key, line.creator_id) == ("live", room_id, host.id)
    board = make_api(host).get(f"{ROOMS}/{room_id}/dashboard").get_json()
    assert board["orders"] == 1  # the room's own figures count it


def test_a_share_of_the_replay_video_wins_a_purchase_from_the_replay(
    app, replayed, make_api, create_user, shelf
):
    room_id, video_id = replayed
    sharer, buyer = create_user(name="Sharer"), create_user(name="Buyer")
    with app.app_context():
        share = Share(sharer_id=sharer.id, target_kind="video", target_key=video_id)
        db.session.add(share)
        db.session.flush()
        db.session.add(
            ShareClick(
                share_id=share.id,
                visitor_id="browser-b",
                user_id=buyer.id,
                ip_hash="ip",
                user_agent_hash="ua",
                at=utcnow() - timedelta(minutes=5),
            )
        )
        db.session.commit()
    _buy_from_the_replay(make_api(buyer), shelf[0].id, room_id)
    with app.test_request_context():
        order = db.session.scalar(select(Order))
        policy = policy_from_config(app.config)
        do_credit_order(db.session, order, policy, utcnow(), app.config["ATTRIBUTION_WINDOW_DAYS"])
        assert order.lines[0].chain == [sharer.id]
        db.session.rollback()

"""A full refund gives the coupon back (a partial one does not); LIVE voucher claims: pinned,
live, the watch task on the server's clock, and a first follow (a re-follow is not new)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from commerce.coupons.models import Coupon, RoomPresence
from commerce.extensions import db
from commerce.live.models import LiveRoom, LiveShelfItem
from commerce.social.models import FirstFollow
from commerce.timeutil import utcnow
from tests.commerce.coupons.conftest import claim
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.payments.conftest import (  # noqa: F401  (fixture)
    deliver,
    pay_with,
    start_payment,
    webhook_inbox,
)


def refund(make_api, merchant, order_id, amount):
    return make_api(merchant).post(
        f"/api/v1/orders/{order_id}/refund",
        {"amount_minor": amount, "reason": "r"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def test_a_full_refund_gives_the_coupon_back_a_partial_one_does_not(
    app,
    buyer_setup,
    make_api,
    create_template,
    webhook_inbox,  # noqa: F811
):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=5000)
    template_id = create_template(merchant, amount_minor=1000)
    coupon_id = claim(api, template_id).get_json()["id"]
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    assert order["total_minor"] == 4000
    pay_with(api, start_payment(api, order["id"]).get_json()["pay_url"], "4242424242424242")
    deliver(app)
    assert refund(make_api, merchant, order["id"], 1000).status_code == 200
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).state == "used"
    assert refund(make_api, merchant, order["id"], 3000).status_code == 200
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert coupon.state == "valid" and coupon.order_id is None


def live_room(app, host, state="live") -> str:
    with app.app_context():
        room = LiveRoom(
            public_id=uuid.uuid4().hex[:12], creator_id=host.id, title="Tea", state=state
        )
        room.started_at = utcnow() if state == "live" else None
        db.session.add(room)
        db.session.commit()
        return room.public_id


def test_a_live_voucher_is_claimed_only_pinned_and_live(
    app, create_user, make_api, create_template
):
    host = create_user(creator=True, merchant=True)
    room_id = live_room(app, host)
    template_id = create_template(host, live_only=True)
    viewer = make_api(create_user())
    assert claim(viewer, template_id, room_id=room_id).get_json()["error"]["code"] == "not_pinned"
    assert (
        make_api(create_user())
        .post(f"/api/v1/coupons/live/{room_id}", {"template_id": template_id})
        .status_code
        == 404
    )  # not her room
    pinned = make_api(host).post(f"/api/v1/coupons/live/{room_id}", {"template_id": template_id})
    assert pinned.status_code == 201 and pinned.get_json()["pinned"]
    assert viewer.get(f"/api/v1/coupons/live/{room_id}").get_json()["template"]["id"] == template_id
    with app.app_context():
        db.session.query(LiveRoom).filter_by(public_id=room_id).update({"state": "ended"})
        db.session.commit()
    assert claim(viewer, template_id, room_id=room_id).get_json()["error"]["code"] == "not_live"
    with app.app_context():
        db.session.query(LiveRoom).filter_by(public_id=room_id).update({"state": "live"})
        db.session.commit()
    assert claim(viewer, template_id, room_id=room_id).status_code == 201


def test_the_watch_task_counts_from_when_the_server_first_saw_the_viewer(
    app, create_user, make_api, create_template
):
    host = create_user(creator=True, merchant=True)
    room_id = live_room(app, host)
    template_id = create_template(host, live_only=True, task="watch", watch_seconds=60)
    make_api(host).post(f"/api/v1/coupons/live/{room_id}", {"template_id": template_id})
    viewer_user = create_user()
    viewer = make_api(viewer_user)
    card = viewer.get(f"/api/v1/coupons/live/{room_id}").get_json()  # the server notes the time
    assert not card["task_done"] and 55 <= card["seconds_to_wait"] <= 60
    refused = claim(viewer, template_id, room_id=room_id).get_json()["error"]
    assert refused["code"] == "watch_more"
    with app.app_context():  # a minute later on the server's clock
        seen = db.session.query(RoomPresence).filter_by(user_id=viewer_user.id).one()
        seen.first_seen_at -= timedelta(seconds=61)
        db.session.commit()
    # Opening the card again does not move the first time forward.
    assert viewer.get(f"/api/v1/coupons/live/{room_id}").get_json()["task_done"]
    assert claim(viewer, template_id, room_id=room_id).status_code == 201


def test_the_follow_task_wants_a_first_follow_in_30_days(
    app, create_user, make_api, create_template
):
    host = create_user(creator=True, merchant=True)
    room_id = live_room(app, host)
    template_id = create_template(host, live_only=True, task="follow")
    make_api(host).post(f"/api/v1/coupons/live/{room_id}", {"template_id": template_id})
    fresh_user, old_fan_user = create_user(), create_user()
    fresh, old_fan = make_api(fresh_user), make_api(old_fan_user)
    assert claim(fresh, template_id, room_id=room_id).get_json()["error"]["code"] == "follow_first"
    assert fresh.put(f"/api/v1/users/{host.id}/follow").status_code == 200
    assert claim(fresh, template_id, room_id=room_id).status_code == 201
    # An old fan unfollows and follows again: the follow is not new, so it does not count.
    old_fan.put(f"/api/v1/users/{host.id}/follow")
    with app.app_context():
        first = db.session.get(FirstFollow, (old_fan_user.id, host.id))
        first.first_at -= timedelta(days=40)
        db.session.commit()
    old_fan.delete(f"/api/v1/users/{host.id}/follow")
    assert old_fan.put(f"/api/v1/users/{host.id}/follow").status_code == 200
    refused = claim(old_fan, template_id, room_id=room_id).get_json()["error"]
    assert refused["code"] == "follow_first"


def test_a_creator_pins_a_merchants_voucher_made_for_her_and_viewers_pay_less(
    app, buyer_setup, create_user, make_api, create_template
):
    """达人专属券: the merchant funds a LIVE voucher scoped to one creator, who is no merchant;
    she finds it among what she may pin, pins it, a viewer claims it and buys from her room."""
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=5000)
    mia, other = create_user(creator=True), create_user(creator=True)
    room_id = live_room(app, mia)
    with app.app_context():  # the room features the merchant's product
        room = db.session.query(LiveRoom).filter_by(public_id=room_id).one()
        db.session.add(LiveShelfItem(room_id=room.id, product_id=product.id, position=0))
        db.session.commit()
    for_mia = create_template(
        merchant, title="For Mia's fans", live_only=True, scope="creator", creator_id=mia.id,
        amount_minor=800,
    )  # fmt: skip
    for_other = create_template(merchant, live_only=True, scope="creator", creator_id=other.id)
    shop_wide = create_template(merchant, live_only=True)
    host = make_api(mia)
    listed = host.get(f"/api/v1/coupons/live/{room_id}/pinnable")
    assert [t["id"] for t in listed.get_json()["items"]] == [for_mia]
    assert make_api(other).get(f"/api/v1/coupons/live/{room_id}/pinnable").status_code == 404
    for refused in (for_other, shop_wide):
        answer = host.post(f"/api/v1/coupons/live/{room_id}", {"template_id": refused})
        assert answer.status_code == 404, answer.get_json()
    pinned = host.post(f"/api/v1/coupons/live/{room_id}", {"template_id": for_mia})
    assert pinned.status_code == 201 and pinned.get_json()["template"]["id"] == for_mia
    assert claim(api, for_mia, room_id=room_id).status_code == 201
    bought = place(api, buy_now(product.id, address_id, source_kind="live", source_key=room_id))
    [order] = bought.get_json()["orders"]
    assert order["total_minor"] == 4200  # ¥50.00 less the merchant's ¥8.00 for Mia's room


def test_what_a_host_may_pin_is_her_shops_coupons_and_those_made_for_her():
    from commerce.coupons.rules import may_pin

    assert may_pin(1, owner_id=1, funded_by="merchant", scope="shop", creator_id=None)
    assert not may_pin(1, owner_id=1, funded_by="platform", scope="shop", creator_id=None)
    assert may_pin(1, owner_id=2, funded_by="merchant", scope="creator", creator_id=1)
    assert not may_pin(1, owner_id=2, funded_by="merchant", scope="creator", creator_id=3)
    assert not may_pin(1, owner_id=2, funded_by="merchant", scope="shop", creator_id=None)
    assert may_pin(1, owner_id=9, funded_by="platform", scope="creator", creator_id=1)

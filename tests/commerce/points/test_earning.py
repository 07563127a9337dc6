"""Earning: purchases and purchases through one's share link are held until the return window
after delivery has passed, then credited by the job; refunds before lower or cancel them,
refunds after take them back down to zero; the daily check-in pays once a day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from commerce.extensions import db
from commerce.points import services
from commerce.points.models import PointsAccount, PointsEntry, PointsHold
from commerce.points.rules import terms_from_config
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.points.conftest import (
    balance,
    entries,
    holds,
    ledger_sum,
    pay,
    refund,
    ship_and_deliver,
)


def release(app, *, days: int = 8) -> int:
    """The job's run as if the deliveries were `days` ago (a 7-day hold)."""
    with app.app_context():
        for hold in db.session.scalars(
            select(PointsHold).where(PointsHold.hold_until.is_not(None))
        ):
            hold.hold_until -= timedelta(days=days)
        db.session.flush()
        done = services.do_release_due(db.session, utcnow(), terms_from_config(app.config))
        db.session.rollback() if done == 0 else db.session.commit()
        return done


def bought(app, api, product, address_id, quantity=1):
    [order] = place(api, buy_now(product.id, address_id, quantity)).get_json()["orders"]
    pay(app, api, order["id"])
    return order["id"]


def test_purchase_points_wait_for_delivery_and_the_hold(
    app,
    buyer_setup,
    make_api,
    webhook_inbox,
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=12_999)
    order_id = bought(app, api, product, address_id)
    assert holds(app, buyer) == [("purchase", 129, "held")]  # ¥129.99 -> 129 points
    assert release(app) == 0  # not delivered: the window has not started
    ship_and_deliver(make_api(merchant), order_id)
    assert release(app, days=6) == 0  # inside the 7-day window
    assert api.get("/api/v1/points").get_json()["pending"] == 129
    assert release(app) == 1
    assert release(app) == 0  # once
    assert balance(app, buyer) == 129 and entries(app, buyer) == [("purchase", 129)]
    summary = api.get("/api/v1/points").get_json()
    assert (summary["balance"], summary["pending"]) == (129, 0)


def test_a_full_refund_before_release_cancels_a_partial_one_lowers(
    app,
    buyer_setup,
    make_api,
    webhook_inbox,
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=5_000)
    order_id = bought(app, api, product, address_id, quantity=2)  # ¥100 -> 100 points
    seller = make_api(merchant)
    assert refund(seller, order_id, 2_550).status_code == 200
    assert holds(app, buyer) == [("purchase", 74, "held")]  # ¥74.50 still paid
    assert refund(seller, order_id, 7_450).status_code == 200
    assert holds(app, buyer) == [("purchase", 0, "cancelled")]
    assert release(app, days=30) == 0 and balance(app, buyer) == 0


def test_a_refund_after_release_takes_back_down_to_zero_and_records_the_rest(
    app,
    buyer_setup,
    make_api,
    grant,
    webhook_inbox,
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=10_000)
    order_id = bought(app, api, product, address_id)
    seller = make_api(merchant)
    ship_and_deliver(seller, order_id)
    release(app)
    assert balance(app, buyer) == 100
    # She spends 70 of them elsewhere (a grant-free debit through a second order).
    api2, other, other_address, _b, _m = (api, product, address_id, buyer, merchant)
    [spent] = place(api2, {**buy_now(other.id, other_address), "points_to_use": 70}).get_json()[
        "orders"
    ]
    assert spent["points_used"] == 70 and balance(app, buyer) == 30
    assert refund(seller, order_id, 10_000).status_code == 200
    assert balance(app, buyer) == 0 == ledger_sum(app, buyer)
    assert entries(app, buyer)[-1] == ("purchase_back", -30)
    page = api.get("/api/v1/points/entries").get_json()["items"]
    assert page[0]["kind"] == "purchase_back" and page[0]["shortfall"] == 70
    assert refund(seller, order_id, 1).status_code == 409  # nothing left: no second reversal
    assert balance(app, buyer) == 0


def test_purchases_through_a_share_link_earn_the_sharer_points(
    app,
    buyer_setup,
    make_api,
    create_user,
    webhook_inbox,
):
    from tests.commerce.attribution.conftest import open_link

    api, product, address_id, buyer, merchant = buyer_setup(price_minor=20_000)
    sharer = create_user(name="Sam")
    link = make_api(sharer).post(
        "/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)}
    )
    assert link.status_code == 201, link.get_json()
    assert open_link(api, link.get_json()["url"]).status_code == 302  # to the product
    order_id = bought(app, api, product, address_id)
    assert holds(app, sharer) == [("share", 200, "held")]
    assert holds(app, buyer) == [("purchase", 200, "held")]
    ship_and_deliver(make_api(merchant), order_id)
    assert release(app) == 2
    assert entries(app, sharer) == [("share", 200)]
    # a refund after release takes the sharer's points back in proportion
    assert refund(make_api(merchant), order_id, 5_000).status_code == 200
    assert entries(app, sharer) == [("share", 200), ("share_back", -50)]


def test_buying_through_ones_own_link_earns_no_share_points(
    app,
    buyer_setup,
    make_api,
    webhook_inbox,
):
    from tests.commerce.attribution.conftest import open_link

    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=20_000)
    link = api.post("/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)})
    open_link(api, link.get_json()["url"])
    bought(app, api, product, address_id)
    assert holds(app, buyer) == [("purchase", 200, "held")]


def test_check_in_once_a_day_with_a_streak_bonus(app, create_user, make_api, monkeypatch):
    user = create_user()
    api = make_api(user)
    first = api.post("/api/v1/points/check-in")
    assert first.status_code == 201
    assert first.get_json() == {"points": 10, "streak": 1, "balance": 10}
    again = api.post("/api/v1/points/check-in")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "checked_in"
    # Yesterday was the last of four days in a row: today continues the streak.
    with app.app_context():
        today = services.local_day(utcnow(), app.config["POINTS_TIMEZONE"])
        db.session.execute(
            update(PointsAccount)
            .where(PointsAccount.user_id == user.id)
            .values(checkin_day=today - timedelta(days=1), streak=4)
        )
        db.session.query(PointsEntry).filter_by(user_id=user.id).update(
            {"key": "checkin:old"}, synchronize_session=False
        )
        db.session.commit()
    fifth = api.post("/api/v1/points/check-in").get_json()
    assert fifth == {"points": 18, "streak": 5, "balance": 28}  # 10 + 4 x 2
    summary = api.get("/api/v1/points").get_json()
    assert summary["checked_in_today"] and summary["streak"] == 5
    assert summary["next_checkin_points"] == 20  # the bonus stops growing after 5 extra days


def test_the_check_in_day_is_the_configured_zone(app):
    from datetime import datetime

    late = datetime(2026, 1, 1, 17, 30)  # 01:30 on 2 January in Shanghai
    assert services.local_day(late, "Asia/Shanghai") == date(2026, 1, 2)
    assert services.local_day(late, "UTC") == date(2026, 1, 1)


def test_points_pages_need_a_login(client):
    assert client.get("/api/v1/points").status_code == 401
    assert client.post("/api/v1/points/check-in").status_code in (400, 401, 403)
    assert client.get("/me/points").status_code == 302
    assert client.get("/points/rules").status_code == 200


def test_held_rows_are_one_per_line_and_kind(app):
    with app.app_context():
        names = {c.name for c in PointsHold.__table__.constraints}
        assert "uq_points_holds_line" in names

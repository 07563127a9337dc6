"""Expiry: the soonest-dated points go first, reads and checkouts leave out points past their date
before the job runs, the job expires them once, and points given back take the latest date among
those the spend used."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from commerce.extensions import db
from commerce.points import ledger, services
from commerce.points.jobs import expire_points
from commerce.points.models import EXPIRE, SPEND, SPEND_BACK, PointsEntry
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.points.conftest import balance, entries, ledger_sum


def test_points_past_their_date_are_left_out_then_expired_once(app, create_user, make_api, grant):
    user = create_user()
    grant(user, 300, expires_at=utcnow() - timedelta(minutes=1))
    grant(user, 200, expires_at=utcnow() + timedelta(days=10))
    api = make_api(user)
    summary = api.get("/api/v1/points").get_json()
    assert (summary["balance"], summary["expiring_soon"]) == (200, 200)  # a check on read
    assert balance(app, user) == 500  # not yet expired by the job
    with app.app_context():
        expire_points(db.session)
        db.session.commit()
        expire_points(db.session)  # a second run expires nothing more
        db.session.commit()
    assert entries(app, user)[-1] == (EXPIRE, -300)
    assert [k for k, _ in entries(app, user)].count(EXPIRE) == 1
    assert balance(app, user) == 200 == ledger_sum(app, user)


def test_spending_uses_the_soonest_dated_points_first(app, create_user, grant):
    user = create_user()
    now = utcnow()
    grant(user, 100, expires_at=now + timedelta(days=5))
    grant(user, 100, expires_at=now + timedelta(days=50))
    with app.app_context():
        ledger.post(db.session, user_id=user.id, kind=SPEND, amount=-120, key="s", now=now)
        db.session.commit()
        # Day 6: the first 100 were all spent, nothing expires.
        assert services.do_expire_due(db.session, now + timedelta(days=6)) == 1
        db.session.commit()
    assert balance(app, user) == 80
    with app.app_context():
        services.do_expire_due(db.session, now + timedelta(days=51))
        db.session.commit()
    assert balance(app, user) == 0 and entries(app, user)[-1] == (EXPIRE, -80)


def test_a_checkout_cannot_spend_points_past_their_date(app, buyer_setup, grant):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    grant(buyer, 500, expires_at=utcnow() - timedelta(seconds=1))
    refused = place(api, {**buy_now(product.id, address_id), "points_to_use": 500})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "points_balance"
    assert balance(app, buyer) == 500  # the refusal undid the expiry with the checkout


def test_points_given_back_take_the_latest_date_among_those_used(app, buyer_setup, grant):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    soon, later = utcnow() + timedelta(days=3), utcnow() + timedelta(days=30)
    grant(buyer, 100, expires_at=soon)
    grant(buyer, 100, expires_at=later)
    [order] = place(api, {**buy_now(product.id, address_id), "points_to_use": 150}).get_json()[
        "orders"
    ]
    assert api.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 200
    with app.app_context():
        spend = db.session.scalar(select(PointsEntry).where(PointsEntry.kind == SPEND))
        back = db.session.scalar(select(PointsEntry).where(PointsEntry.kind == SPEND_BACK))
        assert spend.expires_at == back.expires_at == later
    assert balance(app, buyer) == 200

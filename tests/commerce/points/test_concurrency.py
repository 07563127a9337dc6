"""Racing requests, each in its own thread, request and database session: two checkouts spending
the same points, ten check-ins at once, a refund racing the release job."""

from __future__ import annotations

import uuid

from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import buy_now
from tests.commerce.orders.test_concurrency import race
from tests.commerce.points.conftest import balance, entries, ledger_sum, racing_release_runs


def test_two_checkouts_spending_the_same_points_one_wins(app, buyer_setup, make_api, grant):
    _api, product, address_id, buyer, _merchant = buyer_setup(price_minor=4000, stock=50)
    grant(buyer, 1500)
    body = {**buy_now(product.id, address_id), "points_to_use": 1500}
    apis = [make_api(buyer) for _ in range(2)]

    def checkout(client):
        key = uuid.uuid4().hex
        return lambda: (
            client.post("/api/v1/orders", body, headers={"Idempotency-Key": key}).status_code
        )

    assert sorted(race([checkout(a) for a in apis])) == [201, 409]
    with app.app_context():
        assert db.session.query(Order).count() == 1  # the loser's order was undone
    assert balance(app, buyer) == 0 == ledger_sum(app, buyer)
    assert entries(app, buyer) == [("grant", 1500), ("spend", -1500)]


def test_two_checkouts_that_both_fit_both_spend(app, buyer_setup, make_api, grant):
    _api, product, address_id, buyer, _merchant = buyer_setup(price_minor=4000, stock=50)
    grant(buyer, 3000)
    body = {**buy_now(product.id, address_id), "points_to_use": 1500}
    apis = [make_api(buyer) for _ in range(2)]

    def checkout(client):
        key = uuid.uuid4().hex
        return lambda: (
            client.post("/api/v1/orders", body, headers={"Idempotency-Key": key}).status_code
        )

    assert race([checkout(a) for a in apis]) == [201, 201]
    assert balance(app, buyer) == 0 == ledger_sum(app, buyer)


def test_ten_check_ins_at_once_credit_once(app, create_user, make_api):
    user = create_user()
    apis = [make_api(user) for _ in range(10)]
    codes = race([lambda a=a: a.post("/api/v1/points/check-in").status_code for a in apis])
    assert sorted(codes) == [201] + [409] * 9
    assert entries(app, user) == [("checkin", 10)]
    assert balance(app, user) == 10


def test_ten_people_checking_in_at_once_each_get_theirs(app, create_user, make_api):
    users = [create_user() for _ in range(10)]
    codes = race(
        [lambda u=u: make_api(u).post("/api/v1/points/check-in").status_code for u in users]
    )
    assert codes == [201] * 10
    assert all(balance(app, u) == 10 for u in users)


def test_release_jobs_racing_credit_once(app, buyer_setup, make_api, webhook_inbox):
    from datetime import timedelta

    from sqlalchemy import update

    from commerce.points.models import PointsHold
    from commerce.timeutil import utcnow
    from tests.commerce.orders.conftest import place
    from tests.commerce.points.conftest import pay, ship_and_deliver

    api, product, address_id, buyer, merchant = buyer_setup(price_minor=10_000)
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    pay(app, api, order["id"])
    ship_and_deliver(make_api(merchant), order["id"])
    with app.app_context():
        db.session.execute(update(PointsHold).values(hold_until=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    assert racing_release_runs(app) == 1
    assert entries(app, buyer) == [("purchase", 100)]

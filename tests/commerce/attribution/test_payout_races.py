"""Payouts requested at once by one payee: one balance is spent once, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from commerce.attribution.models import Payout
from commerce.extensions import db
from tests.commerce.attribution.conftest import balance
from tests.commerce.attribution.test_payouts import entries_match_balances, request
from tests.commerce.orders.test_concurrency import race

RACERS = 10


def payouts_of(app, user_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(select(Payout.amount_minor).where(Payout.payee_id == user_id))
        )


def test_ten_racing_payouts_of_the_whole_balance_pay_it_once(app, world, earned, make_api):
    # Each racer is its own browser session of the same payee, with its own key.
    clients = [make_api(world["sharer"]) for _ in range(RACERS)]
    calls = [(lambda c=c, n=n: request(c, 1500, f"k-race-{n:03d}")) for n, c in enumerate(clients)]
    responses = race(calls)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [400] * (RACERS - 1)
    refused = [r.get_json()["error"] for r in responses if r.status_code == 400]
    assert {e["code"] for e in refused} == {"above_available"}
    assert all(e["message"] for e in refused)
    assert payouts_of(app, world["sharer"].id) == [1500]
    assert balance(app, world["sharer"].id)["available"] == 500
    entries_match_balances(app, world["sharer"].id)


def test_racing_payouts_that_fit_twice_are_paid_twice(app, world, earned, make_api):
    clients = [make_api(world["sharer"]) for _ in range(RACERS)]
    calls = [(lambda c=c, n=n: request(c, 1000, f"k-fits-{n:03d}")) for n, c in enumerate(clients)]
    codes = sorted(r.status_code for r in race(calls))
    assert codes == [201, 201] + [400] * (RACERS - 2)
    assert payouts_of(app, world["sharer"].id) == [1000, 1000]
    assert balance(app, world["sharer"].id)["available"] == 0
    entries_match_balances(app, world["sharer"].id)


def test_racing_retries_of_one_request_make_one_payout(app, world, earned, make_api):
    clients = [make_api(world["sharer"]) for _ in range(RACERS)]
    responses = race([(lambda c=c: request(c, 1500, "k-same-key")) for c in clients])
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payout)) == 1

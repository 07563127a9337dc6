"""The ledger's projection: what is stored with each append equals a replay of the ledger
(credit_state rule), after random histories, racing requests, the migration's backfill."""

from __future__ import annotations

import random
import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, inspect, select, update

from commerce.attribution import crediting, ledger, projection
from commerce.attribution.credit_state import credit_states
from commerce.attribution.models import (
    CommissionCredit,
    LedgerEntry,
    PayeeBalance,
    Payout,
    PayoutAllocation,
)
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import balance, deliver_and_release
from tests.commerce.attribution.test_payouts import request
from tests.commerce.orders.test_concurrency import race

BEFORE = "d3a7c51e9b84"  # the revision before the projection's tables


def problems(app) -> list[str]:
    with app.app_context(), db.engine.connect() as conn:
        return projection.verify(conn)


def replayed_states(app, payee_id: int) -> dict:
    with app.app_context():
        entries = [
            projection.entry_of(row)
            for row in db.session.scalars(
                select(LedgerEntry).where(LedgerEntry.payee_id == payee_id)
            )
        ]
        stored = projection.states_of(db.session, {e.commission_id for e in entries} - {None})
    return {"replayed": credit_states(entries), "stored": stored}


def stored_rows(app) -> dict:
    with app.app_context():
        tables = {CommissionCredit: "commission_id", PayoutAllocation: "payout_id"}
        rows: dict = {}
        for model, _key in tables.items():
            table = model.__table__
            rows[table.name] = sorted(tuple(r) for r in db.session.execute(select(table)).all())
        rows["payee_balances"] = sorted(
            tuple(r) for r in db.session.execute(select(PayeeBalance.__table__)).all()
        )
        return rows


class History:
    """Random money events for the world's sharer and creator, through the services."""

    def __init__(self, app, world, add_click, paid_order, rng: random.Random) -> None:
        self.app, self.world, self.rng = app, world, rng
        self.add_click, self.paid_order = add_click, paid_order
        self.orders: list[str] = []
        self.released: set[str] = set()
        self.keys = 0

    def credit(self) -> None:
        buyer = self.world["buyer"].id
        self.add_click(self.world["share"], visitor=f"v{len(self.orders)}", user_id=buyer)
        self.orders.append(
            self.paid_order(self.world["buyer"], self.world["product"], video=self.world["video"])
        )

    def release(self) -> None:
        waiting = [o for o in self.orders if o not in self.released]
        if waiting:
            public_id = self.rng.choice(waiting)
            self.released.add(public_id)
            deliver_and_release(self.app, public_id)

    def payout(self) -> None:
        payee = self.rng.choice([self.world["sharer"], self.world["creator"]])
        with self.app.app_context():
            available = ledger.balances_for(db.session, payee.id).get("CNY", {}).get("available")
            if not available or available <= 0:
                return
            self.keys += 1
            ledger.do_request_payout(
                db.session,
                db.session.get(type(payee), payee.id),
                amount_minor=self.rng.randint(1, available),
                currency="CNY",
                idempotency_key=f"prop-{self.keys}",
                minimum_minor=1,
            )
            db.session.commit()

    def payout_failure(self) -> None:
        with self.app.app_context():
            returned = select(LedgerEntry.payout_id).where(LedgerEntry.kind == "payout_failed")
            ids = list(db.session.scalars(select(Payout.id).where(Payout.id.not_in(returned))))
            if ids:
                payout = db.session.get(Payout, self.rng.choice(ids))
                ledger.do_return_payout(db.session, payout, "account_closed", utcnow())
                db.session.commit()

    def refund(self) -> None:
        if not self.orders:
            return
        with self.app.app_context():
            order = db.session.scalar(
                select(Order).where(Order.public_id == self.rng.choice(self.orders))
            )
            line = order.lines[0]
            left = line.amount_minor - line.refunded_minor
            if left <= 0:
                return
            cut = self.rng.choice([left, self.rng.randint(1, left)])
            line.refunded_minor += cut
            order.refunded_minor += cut
            crediting.do_reverse_for_refund(db.session, order, utcnow())
            db.session.commit()


@pytest.mark.parametrize("seed", range(6))
def test_random_histories_leave_the_projection_equal_to_a_replay(
    app, world, add_click, paid_order, seed
):
    rng = random.Random(seed)
    history = History(app, world, add_click, paid_order, rng)
    steps = [history.credit, history.release, history.payout, history.payout_failure]
    steps.append(history.refund)
    for _ in range(24):
        rng.choices(steps, weights=[4, 3, 3, 1, 2])[0]()
        # After every step, not only at the end: a page may be read at any moment.
        assert problems(app) == []
    for who in ("sharer", "creator"):
        states = replayed_states(app, world[who].id)
        assert states["stored"] == states["replayed"]


def test_a_payout_covers_the_first_released_first_and_a_return_uncovers_it(
    app, world, add_click, paid_order
):
    ids = []
    for n in range(3):
        add_click(world["share"], visitor=f"dev{n}", user_id=world["buyer"].id)
        ids.append(paid_order(world["buyer"], world["product"], video=world["video"]))
    for public_id in ids:
        deliver_and_release(app, public_id)  # 10.00 each for the sharer, in this order
    with app.app_context():
        sharer = db.session.get(type(world["sharer"]), world["sharer"].id)
        payout = ledger.do_request_payout(
            db.session, sharer, amount_minor=1500, currency="CNY", idempotency_key="fifo",
            minimum_minor=1,
        )  # fmt: skip
        db.session.commit()
        credits = db.session.scalars(
            select(CommissionCredit)
            .where(CommissionCredit.payee_id == sharer.id)
            .order_by(CommissionCredit.release_seq)
        ).all()
        assert [(c.state, c.covered_minor) for c in credits] == [
            ("paid", 1000),
            ("available", 500),
            ("available", 0),
        ]
        ledger.do_return_payout(db.session, payout, "account_closed", utcnow())
        db.session.commit()
        assert db.session.scalars(select(PayoutAllocation)).all() == []
        assert {c.state for c in db.session.scalars(select(CommissionCredit)).all()} == {
            "available"
        }
    assert problems(app) == []


def test_racing_sales_releases_payouts_and_refunds_lose_no_update(
    app, world, add_click, paid_order, make_api
):
    """Requests that append to the same payees' ledgers at once (SQLite and PostgreSQL)."""
    first = []
    for n in range(4):
        add_click(world["share"], visitor=f"pre{n}", user_id=world["buyer"].id)
        first.append(paid_order(world["buyer"], world["product"], video=world["video"]))
    for public_id in first[:3]:
        deliver_and_release(app, public_id)
    for n in range(4):
        add_click(world["share"], visitor=f"race{n}", user_id=world["buyer"].id)
    clients = [make_api(world["sharer"]) for _ in range(4)]

    def sell():
        return paid_order(world["buyer"], world["product"], video=world["video"])

    def release():
        return deliver_and_release(app, first[3])

    def refund():
        with app.app_context():
            order = db.session.scalar(select(Order).where(Order.public_id == first[0]))
            order.lines[0].refunded_minor = order.refunded_minor = 5000
            crediting.do_reverse_for_refund(db.session, order, utcnow())
            db.session.commit()

    calls = [sell for _ in range(4)] + [release, refund]
    calls += [(lambda c=c, n=n: request(c, 700, f"race-{n}")) for n, c in enumerate(clients)]
    race(calls)
    assert problems(app) == []
    # 8 sales of 10.00 for the sharer, 5.00 refunded from a released one.
    sums = balance(app, world["sharer"].id)
    assert sum(sums.values()) - sums["cancelled"] == 7500


def test_the_migration_backfills_existing_history_and_downgrades(
    app, world, earned, add_click, paid_order
):
    add_click(world["share"], visitor="late", user_id=world["buyer"].id)
    paid_order(world["buyer"], world["product"], video=world["video"])  # still pending
    with app.app_context():
        sharer = db.session.get(type(world["sharer"]), world["sharer"].id)
        ledger.do_request_payout(
            db.session, sharer, amount_minor=1500, currency="CNY", idempotency_key="m",
            minimum_minor=1,
        )  # fmt: skip
        db.session.commit()
    before = stored_rows(app)
    assert before["commission_credits"] and before["payout_allocations"]
    with app.app_context():
        db.session.remove()
        downgrade(revision=BEFORE)
        tables = inspect(db.engine).get_table_names()
        assert not {"commission_credits", "payout_allocations", "payee_balances"} & set(tables)
        upgrade()
        db.session.remove()
    assert stored_rows(app) == before
    assert problems(app) == []


def test_ledger_verify_reports_a_drifted_row_and_rebuild_mends_it(app, world, earned):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    with app.app_context():
        db.session.execute(
            update(CommissionCredit)
            .where(CommissionCredit.payee_id == world["sharer"].id)
            .values(state="pending")
        )
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert "difference(s) between the ledger and its projection" in result.output
    rebuilt = runner.invoke(args=["ledger", "rebuild", "--payee", str(world["sharer"].id)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_pages_read_the_same_number_of_queries_however_long_the_history(
    app, world, add_click, paid_order, make_api
):
    """The earnings page's cost does not grow with the payee's ledger."""

    def queries_for(path: str) -> int:
        api = make_api(world["sharer"])
        seen: list[str] = []
        with app.app_context():
            engine = db.engine

            def count(*_args):
                seen.append("q")

            event.listen(engine, "before_cursor_execute", count)
            try:
                assert api.client.get(path).status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    def sell(n: int) -> None:
        for k in range(n):
            add_click(world["share"], visitor=f"q{n}-{k}", user_id=world["buyer"].id)
            public_id = paid_order(world["buyer"], world["product"], video=world["video"])
            deliver_and_release(app, public_id)

    sell(2)
    few = queries_for("/earnings")
    sell(6)
    assert queries_for("/earnings") == few


def test_my_links_page_by_keyset_newest_first(app, world, add_share, make_api):
    for n in range(24):  # 25 links with the world's own
        add_share(world["sharer"], "video", f"gone{n:02d}")
    api = make_api(world["sharer"])
    first = api.client.get("/earnings")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert page.count("<tr data-share-id=") == 20
    older = re.search(r'href="([^"]*links_cursor=[^"#]*)', page)
    assert older is not None and "Older links" in page
    second = api.client.get(older.group(1).replace("&amp;", "&"))
    rest = second.get_data(as_text=True)
    assert rest.count("<tr data-share-id=") == 5
    assert "links_cursor=" not in rest
    seen = set(re.findall(r"<tr data-share-id=\"(\d+)\"", page + rest))
    assert len(seen) == 25
    bad = api.client.get("/earnings?links_cursor=nonsense")
    assert bad.status_code == 400

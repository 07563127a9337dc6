"""Crediting paid orders and the commission ledger, on the real database."""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commerce.accounts.models import User
from commerce.attribution import ledger, payout_rules, payouts
from commerce.attribution.crediting import (
    commissions_for_order,
    do_credit_order,
    do_reverse_for_refund,
    policy_from_config,
)
from commerce.attribution.models import (
    REVIEW_HELD,
    Commission,
    LedgerEntry,
    Payout,
    Share,
    ShareClick,
)
from commerce.attribution.rules import CommissionPolicy, prorate
from commerce.catalog.models import Product
from commerce.errors import Conflict, ValidationFailed
from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from commerce.orders.rules import PAID, line_refund_shares

NOW = datetime(2026, 11, 23, 12, 0)
POLICY = CommissionPolicy()
_ids = itertools.count(1)


def person(name: str) -> User:
    user = User(email=f"{name}{next(_ids)}@example.com", password_hash="-", display_name=name)
    db.session.add(user)
    db.session.flush()
    return user


def share(sharer: User, parent: Share | None = None, *, kind="video", key="vid1") -> Share:
    item = Share(
        sharer_id=sharer.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        target_kind=kind,
        target_key=key,
    )
    db.session.add(item)
    db.session.flush()
    return item


def click(item: Share, *, user: User | None = None, visitor="browser-c", at=NOW) -> ShareClick:
    row = ShareClick(
        share_id=item.id,
        visitor_id=visitor,
        user_id=user.id if user else None,
        ip_hash="ip",
        user_agent_hash="ua",
        at=at,
    )
    db.session.add(row)
    db.session.flush()
    return row


def order_for(
    buyer: User, product: Product, creator: User | None, amount=10_000, device="browser-c"
):
    order = Order(
        public_id=f"o{next(_ids)}",
        buyer_id=buyer.id,
        merchant_id=product.merchant_id,
        state=PAID,
        currency="CNY",
        subtotal_minor=amount,
        total_minor=amount,
        device_id=device,
        paid_at=NOW,
    )
    order.lines.append(
        OrderLine(
            product_id=product.id,
            title=product.title,
            list_price_minor=amount,
            unit_price_minor=amount,
            quantity=1,
            amount_minor=amount,
            creator_rate_bp=product.creator_rate_bp,
            sharer_rate_bp=product.sharer_rate_bp,
            source_kind="video",
            source_key="vid1",
            creator_id=creator.id if creator else None,
        )
    )
    db.session.add(order)
    db.session.flush()
    return order


@pytest.fixture
def world(app):
    """Creator, merchant, sharers A and B (B re-shared A's link), buyer C who clicked B's link."""
    with app.test_request_context():  # services translate their messages
        merchant, creator = person("merchant"), person("creator")
        a, b, c = person("a"), person("b"), person("c")
        product = Product(
            merchant_id=merchant.id,
            title="Tea",
            price_minor=10_000,
            stock=5,
            creator_rate_bp=1000,
            sharer_rate_bp=800,
        )
        db.session.add(product)
        share_a = share(a)
        share_b = share(b, share_a)
        click(share_b, visitor="browser-c", at=NOW - timedelta(hours=1))
        db.session.flush()
        yield {
            "creator": creator,
            "a": a,
            "b": b,
            "c": c,
            "product": product,
            "share_a": share_a,
            "share_b": share_b,
        }
        db.session.rollback()


def amounts(order: Order) -> dict[tuple[int, int], int]:
    return {(c.user_id, c.level): c.amount_minor for c in commissions_for_order(db.session, order)}


def entry_count() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def test_payment_freezes_the_chain_and_posts_pending_commissions(world):
    w = world
    order = order_for(w["c"], w["product"], w["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    line = order.lines[0]
    assert line.chain == [w["b"].id, w["a"].id]
    assert line.attributed_at == NOW and line.click_id is not None
    assert amounts(order) == {(w["creator"].id, 0): 1000, (w["b"].id, 1): 800, (w["a"].id, 2): 200}
    assert ledger.balances_for(db.session, w["b"].id)["CNY"]["pending"] == 800
    assert ledger.balances_for(db.session, w["a"].id)["CNY"]["available"] == 0


def test_entries_carry_the_time_of_their_event(world):
    order = order_for(world["c"], world["product"], world["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    order.delivered_at = NOW
    ledger.do_release_due(db.session, NOW + timedelta(days=9), 7)
    times = {(e.kind, e.created_at) for e in db.session.scalars(select(LedgerEntry))}
    assert times == {("accrue", NOW), ("release", NOW + timedelta(days=9))}


def test_a_sharer_on_the_buyers_own_device_is_held_for_review(world):
    world["share_b"].device_id = "browser-c"  # B shared from the browser C buys with
    order = order_for(world["c"], world["product"], world["creator"])
    commissions = do_credit_order(db.session, order, POLICY, NOW, 7)
    held = {c.user_id for c in commissions if c.review == REVIEW_HELD}
    assert held == {world["b"].id}
    order.delivered_at = NOW
    ledger.do_release_due(db.session, NOW + timedelta(days=8), 7)
    assert ledger.balances_for(db.session, world["b"].id)["CNY"]["pending"] == 800


def test_crediting_twice_creates_nothing_new(world):
    order = order_for(world["c"], world["product"], world["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    entries, commissions = entry_count(), len(commissions_for_order(db.session, order))
    do_credit_order(db.session, order, POLICY, NOW + timedelta(minutes=1), 7)
    assert entry_count() == entries
    assert len(commissions_for_order(db.session, order)) == commissions


def test_last_click_within_the_window_wins(world):
    w = world
    click(w["share_a"], visitor="browser-c", at=NOW - timedelta(minutes=5))  # later than B's
    order = order_for(w["c"], w["product"], w["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    assert order.lines[0].chain == [w["a"].id]


def test_clicks_older_than_the_window_do_not_count(world):
    order = order_for(world["c"], world["product"], world["creator"])
    do_credit_order(db.session, order, POLICY, NOW + timedelta(days=7, hours=1), 7)
    assert order.lines[0].chain == []
    assert set(amounts(order)) == {(world["creator"].id, 0)}


def test_a_click_claimed_at_login_counts_from_another_browser(world):
    w = world
    db.session.execute(
        ShareClick.__table__.update().values(user_id=w["c"].id)  # what login does
    )
    order = order_for(w["c"], w["product"], w["creator"], device="a-phone")
    do_credit_order(db.session, order, POLICY, NOW, 7)
    assert order.lines[0].chain == [w["b"].id, w["a"].id]


def test_a_share_of_something_else_does_not_win(world):
    w = world
    other = share(w["a"], kind="product", key="999")
    click(other, visitor="browser-c", at=NOW - timedelta(minutes=1))
    order = order_for(w["c"], w["product"], w["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    assert order.lines[0].chain == [w["b"].id, w["a"].id]


def refund(order: Order, amount: int) -> None:
    shares = line_refund_shares(
        [line.amount_minor - line.refunded_minor for line in order.lines], amount
    )
    for line, part in zip(order.lines, shares, strict=True):
        line.refunded_minor += part
    order.refunded_minor += amount
    do_reverse_for_refund(db.session, order, NOW)


def test_partial_refund_before_release_recomputes_pro_rata_once(world):
    w = world
    order = order_for(w["c"], w["product"], w["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    refund(order, 2500)
    balances = ledger.balances_for(db.session, w["b"].id)["CNY"]
    assert balances["pending"] == 600 and balances["cancelled"] == 200
    entries = entry_count()
    do_reverse_for_refund(db.session, order, NOW)  # a replayed refund webhook
    assert entry_count() == entries


def test_full_refund_cancels_every_pending_commission(world):
    order = order_for(world["c"], world["product"], world["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    refund(order, 10_000)
    for who, amount in (("creator", 1000), ("b", 800), ("a", 200)):
        balances = ledger.balances_for(db.session, world[who].id)["CNY"]
        assert balances["pending"] == 0 and balances["cancelled"] == amount


def test_release_after_the_hold_skips_held_commissions(world):
    w = world
    order = order_for(w["c"], w["product"], w["creator"])
    commissions = do_credit_order(db.session, order, POLICY, NOW, 7)
    next(c for c in commissions if c.user_id == w["a"].id).review = REVIEW_HELD
    order.delivered_at = NOW
    assert ledger.do_release_due(db.session, NOW + timedelta(days=6), 7) == 0
    assert ledger.do_release_due(db.session, NOW + timedelta(days=7), 7) == 2
    assert ledger.do_release_due(db.session, NOW + timedelta(days=8), 7) == 0  # once
    assert ledger.balances_for(db.session, w["b"].id)["CNY"]["available"] == 800
    assert ledger.balances_for(db.session, w["a"].id)["CNY"]["pending"] == 200


def test_payouts_and_a_refund_after_payout(world):
    w = world
    order = order_for(w["c"], w["product"], w["creator"])
    do_credit_order(db.session, order, POLICY, NOW, 7)
    order.delivered_at = NOW
    ledger.do_release_due(db.session, NOW + timedelta(days=7), 7)
    b = db.session.get(User, w["b"].id)
    pay = {"currency": "CNY", "minimum_minor": 100}
    with pytest.raises(ValidationFailed, match="minimum"):
        ledger.do_request_payout(db.session, b, amount_minor=50, idempotency_key="k0", **pay)
    with pytest.raises(ValidationFailed, match="more than"):
        ledger.do_request_payout(db.session, b, amount_minor=801, idempotency_key="k1", **pay)
    first = ledger.do_request_payout(db.session, b, amount_minor=800, idempotency_key="k2", **pay)
    again = ledger.do_request_payout(db.session, b, amount_minor=800, idempotency_key="k2", **pay)
    assert again.id == first.id
    with pytest.raises(Conflict):
        ledger.do_request_payout(db.session, b, amount_minor=700, idempotency_key="k2", **pay)
    refund(order, 5000)  # after payout: a negative entry, netted against future earnings
    balances = ledger.balances_for(db.session, b.id)["CNY"]
    assert balances == {"pending": 0, "available": -400, "paid": 800, "cancelled": 400}
    with pytest.raises(ValidationFailed, match="netted"):
        ledger.do_request_payout(db.session, b, amount_minor=100, idempotency_key="k3", **pay)


def test_policy_from_config_reads_the_settings(app):
    policy = policy_from_config(app.config)
    assert (policy.paid_levels, policy.cap_bp) == (2, 3000)


# Property: any sequence of payments, refunds, deliveries, hold expiries, payouts and the
# provider's reports on them (paid, failed, in any order) -----------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("buy"),
            st.integers(0, 3),
            st.lists(st.integers(0, 3), max_size=4),
            st.integers(1, 50_000),
            st.integers(0, 3),
        ),
        st.tuples(st.just("refund"), st.integers(0, 9), st.fractions(0, 1)),
        st.tuples(st.just("deliver"), st.integers(0, 9)),
        st.tuples(st.just("wait"), st.integers(1, 10)),
        st.tuples(st.just("payout"), st.integers(0, 3), st.integers(1, 5_000)),
        st.tuples(
            st.just("settle"),
            st.integers(0, 9),
            st.sampled_from([payout_rules.PAID, payout_rules.FAILED]),
        ),
        st.tuples(
            st.just("replay"),
        ),
    ),
    max_size=16,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_ledger_invariants_hold_for_any_sequence(app, steps):
    with app.test_request_context():
        people = [person(f"p{i}") for i in range(4)]  # each may create, share and buy
        merchant = person("m")
        product = Product(
            merchant_id=merchant.id,
            title="T",
            price_minor=1,
            stock=0,
            creator_rate_bp=1500,
            sharer_rate_bp=1200,
        )
        db.session.add(product)
        db.session.flush()
        now, orders, sent = NOW, [], []
        for step in steps:
            kind = step[0]
            if kind == "buy":
                _, buyer, chain, amount, creator = step
                parent = None
                for sharer in reversed(chain):  # the last in `chain` shared first
                    parent = share(people[sharer], parent, key=f"v{product.id}")
                order = order_for(people[buyer], product, people[creator], amount, device=None)
                order.lines[0].source_key = f"v{product.id}"
                if parent is not None:
                    click(parent, user=people[buyer], at=now)
                do_credit_order(db.session, order, POLICY, now, 7)
                orders.append(order)
            elif kind == "refund" and orders:
                order = orders[step[1] % len(orders)]
                left = order.total_minor - order.refunded_minor
                amount = int(left * step[2])
                if amount > 0:
                    refund(order, amount)
            elif kind == "deliver" and orders:
                order = orders[step[1] % len(orders)]
                order.delivered_at = order.delivered_at or now
            elif kind == "wait":
                now += timedelta(days=step[1])
                ledger.do_release_due(db.session, now, 7)
            elif kind == "payout":
                payee = people[step[1]]
                with contextlib.suppress(ValidationFailed):
                    sent.append(
                        ledger.do_request_payout(
                            db.session,
                            payee,
                            amount_minor=step[2],
                            currency="CNY",
                            idempotency_key=f"k{next(_ids)}",
                            minimum_minor=100,
                        )
                    )
            elif kind == "settle" and sent:
                payout, wanted = sent[step[1] % len(sent)], step[2]
                was = payout.state
                try:
                    payouts.do_settle_payout(
                        db.session, payout, wanted, at=now, failure_code="account_closed"
                    )
                except Conflict:
                    assert (was, wanted) == (payout_rules.FAILED, payout_rules.PAID), "refused"
            elif kind == "replay":
                before = entry_count()
                for order in orders:
                    do_credit_order(db.session, order, POLICY, now, 7)
                    do_reverse_for_refund(db.session, order, now)
                for payout in sent:
                    if payout.state == payout_rules.FAILED:
                        payouts.do_settle_payout(db.session, payout, payout.state, at=now)
                        ledger.do_return_payout(db.session, payout, "again", now)
                assert entry_count() == before, "a replay appended entries"
        _check_invariants(people, orders)
        _check_payouts(people)
        db.session.rollback()


def _check_invariants(people: list[User], orders: list[Order]) -> None:
    ids = [p.id for p in people]
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.payee_id.in_(ids))).all()
    keys = [(e.event_key, e.bucket) for e in entries]
    assert len(keys) == len(set(keys)), "an entry is duplicated"
    for user_id in ids:
        mine = [e for e in entries if e.payee_id == user_id]
        sums = {
            b: sum(e.amount_minor for e in mine if e.bucket == b)
            for b in ("pending", "available", "paid", "cancelled")
        }
        assert ledger.balances_for(db.session, user_id).get("CNY", dict.fromkeys(sums, 0)) == sums
        earned = db.session.scalar(
            select(func.coalesce(func.sum(Commission.amount_minor), 0)).where(
                Commission.user_id == user_id
            )
        )
        assert sum(sums.values()) == earned, "moves must not create or destroy money"
        assert sums["pending"] >= 0 and sums["cancelled"] >= 0 and sums["paid"] >= 0
    for order in orders:
        line = order.lines[0]
        commissions = commissions_for_order(db.session, order)
        assert (
            sum(c.amount_minor for c in commissions) <= line.amount_minor * POLICY.cap_bp // 10_000
        )
        for commission in commissions:
            if commission.amount_minor > 0:
                assert commission.user_id != order.buyer_id, "paid on their own purchase"
                buckets = ledger.commission_buckets(db.session, commission.id)
                expected = prorate(
                    commission.amount_minor,
                    line.amount_minor - line.refunded_minor,
                    commission.base_minor,
                )
                assert buckets["pending"] + buckets["available"] == expected
                assert buckets["pending"] >= 0


def _check_payouts(people: list[User]) -> None:
    """What is paid out is exactly the payouts that have not failed; failed money came back."""
    for person_ in people:
        mine = db.session.scalars(select(Payout).where(Payout.payee_id == person_.id)).all()
        live = sum(p.amount_minor for p in mine if p.state != payout_rules.FAILED)
        paid = ledger.balances_for(db.session, person_.id).get("CNY", {}).get("paid", 0)
        assert paid == live, "the paid balance is not the payouts still paid or on their way"
        for payout in mine:
            returned = db.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                    LedgerEntry.payout_id == payout.id,
                    LedgerEntry.kind == "payout_failed",
                    LedgerEntry.bucket == "available",
                )
            )
            expected = payout.amount_minor if payout.state == payout_rules.FAILED else 0
            assert returned == expected, "a failed payout must come back exactly once"


# Property: payouts the provider pays, fails, fails after paying, or reports twice -----------

payout_ops = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.integers(0, 2), st.integers(1, 100)),
        st.tuples(
            st.just("settle"),
            st.integers(0, 3),  # few payouts: the same one is often reported twice
            st.sampled_from([payout_rules.PAID, payout_rules.FAILED]),
        ),
        st.tuples(st.just("refund"), st.integers(0, 1), st.fractions(0, 1)),
        st.tuples(st.just("replay")),
    ),
    max_size=14,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=payout_ops)
def test_payout_reports_keep_the_ledger_whole(app, steps):
    with app.test_request_context():
        creator, a, b, buyer, merchant = (person(n) for n in ("cr", "a", "b", "buyer", "m"))
        product = Product(
            merchant_id=merchant.id,
            title="T",
            price_minor=1,
            stock=0,
            creator_rate_bp=1500,
            sharer_rate_bp=1200,
        )
        db.session.add(product)
        db.session.flush()
        orders = []
        for amount in (40_000, 25_000):  # earned by all three, delivered, the hold passed
            parent = share(b, share(a, key=f"v{product.id}"), key=f"v{product.id}")
            order = order_for(buyer, product, creator, amount, device=None)
            order.lines[0].source_key = f"v{product.id}"
            click(parent, user=buyer, at=NOW)
            do_credit_order(db.session, order, POLICY, NOW, 7)
            order.delivered_at = NOW
            orders.append(order)
        now = NOW + timedelta(days=8)
        ledger.do_release_due(db.session, now, 7)
        payees, sent = [creator, a, b], []
        for step in steps:
            kind = step[0]
            if kind == "request":
                payee = payees[step[1]]
                available = ledger.balances_for(db.session, payee.id)["CNY"]["available"]
                with contextlib.suppress(ValidationFailed):
                    sent.append(
                        ledger.do_request_payout(
                            db.session,
                            payee,
                            amount_minor=max(available, 0) * step[2] // 100,
                            currency="CNY",
                            idempotency_key=f"k{next(_ids)}",
                            minimum_minor=100,
                        )
                    )
            elif kind == "settle" and sent:
                payout, wanted = sent[step[1] % len(sent)], step[2]
                was = payout.state
                try:
                    payouts.do_settle_payout(
                        db.session, payout, wanted, at=now, failure_code="account_closed"
                    )
                except Conflict:
                    assert (was, wanted) == (payout_rules.FAILED, payout_rules.PAID), "refused"
                else:
                    assert payout.state == wanted
            elif kind == "refund":  # after payouts: may leave available negative
                order = orders[step[1]]
                amount = int((order.total_minor - order.refunded_minor) * step[2])
                if amount > 0:
                    refund(order, amount)
            elif kind == "replay":
                before = entry_count()
                for payout in sent:
                    payouts.do_settle_payout(db.session, payout, payout.state, at=now)
                    if payout.state == payout_rules.FAILED:
                        ledger.do_return_payout(db.session, payout, "again", now)
                assert entry_count() == before, "a replayed report appended entries"
        _check_invariants(payees, orders)
        _check_payouts(payees)
        db.session.rollback()

"""1,000 buyers joining 100 open groups of 3 at once, next to a plain checkout in the same run.

Each buyer is its own browser session (a Flask test client, one thread each, 32 at a time)
POSTing /api/v1/group-orders for a random open group (PostgreSQL by default: BENCH_DATABASE_URL
or --database-url). Every seat held is then paid through the path a payment webhook takes (the
order marked paid, then the `order_paid` signal seats the payer); the groups left unfilled
expire through the refund service. Checks: no group ever over-filled (paid + held <= size), every
group succeeded or failed with every paid order refunded in full. The reference: the same number
of buyers placing a plain order of the same product through /api/v1/orders, same concurrency.

    python bench/group_buy_bench.py [--database-url URL] [--buyers 1000] [--groups 100]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/h-groupbuy_bench"


def make_app(url: str, pool: int) -> Any:
    from app import create_app

    options: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("postgresql"):
        options.update(pool_size=pool, max_overflow=pool)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "group-bench",
            "SERVER_NAME": None,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def seed(app: Any, buyers: int, groups: int) -> dict[str, Any]:
    from bench.schema import ensure_database, fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.groupbuy import rules
    from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
    from commerce.orders.models import Address
    from commerce.timeutil import utcnow

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        ensure_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        fresh_schema()
        shop = User(
            email="shop@bench", display_name="Shop", bio="", is_merchant=True, password_hash="!"
        )
        db.session.add(shop)
        db.session.flush()
        stock = 10 * (buyers + groups)
        grouped = Product(
            merchant_id=shop.id, title="Group tea", price_minor=1000, currency="CNY", stock=stock
        )
        plain = Product(
            merchant_id=shop.id, title="Plain tea", price_minor=1000, currency="CNY", stock=stock
        )
        db.session.add_all([grouped, plain])
        db.session.flush()
        campaign = GroupCampaign(
            product_id=grouped.id,
            merchant_id=shop.id,
            price_minor=700,
            group_size=3,
            per_person_limit=5,
        )
        db.session.add(campaign)
        users = [
            User(email=f"b{i}@bench", display_name=f"B{i}", bio="", password_hash="!")
            for i in range(2 * buyers + groups)
        ]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(
            [
                Address(user_id=u.id, name="B", phone="123456", line1="1 Road", city="Shanghai")
                for u in users
            ]
        )
        now = utcnow()
        ids = []
        for leader in users[-groups:]:  # each group opened and paid by its leader
            group = Group(
                public_id=uuid.uuid4().hex[:12],
                campaign_id=campaign.id,
                leader_id=leader.id,
                state=rules.OPEN,
                size=3,
                paid=1,
                held=0,
                opened_at=now,
                expires_at=now + timedelta(hours=1),
            )
            db.session.add(group)
            db.session.flush()
            db.session.add(
                GroupSeat(
                    group_id=group.id,
                    joined_group_id=group.id,
                    campaign_id=campaign.id,
                    user_id=leader.id,
                    role="leader",
                    state="paid",
                    paid_at=now,
                )
            )
            ids.append(group.public_id)
        db.session.commit()
        addresses = {a.user_id: a.id for a in db.session.query(Address)}
        people = [(u.id, u.session_version, addresses[u.id]) for u in users]
        return {"grouped": grouped.id, "plain": plain.id, "groups": ids, "people": people}


def client_for(app: Any, person: tuple[int, int, int]) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["session_version"] = person[0], person[1]
    return client


def rush(
    calls: list[tuple[Any, str, dict]], concurrency: int
) -> tuple[list[Any], float, list[float]]:
    """Every call at once (`concurrency` threads): answers, seconds in all, each call's ms."""
    latencies: list[float] = []

    def one(call: tuple[Any, str, dict]) -> Any:
        client, path, body = call
        began = time.perf_counter()
        answer = client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        latencies.append((time.perf_counter() - began) * 1000)
        return answer

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(one, calls))
    return answers, time.perf_counter() - started, sorted(latencies)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def pay_all(app: Any, order_ids: list[str]) -> None:
    """As a payment webhook does: mark paid, then the signal seats the payer; one per commit."""
    from sqlalchemy import select

    from commerce.extensions import db
    from commerce.orders import lifecycle
    from commerce.orders.models import Order
    from commerce.payments.services import do_start_payment, order_paid
    from commerce.payments.webhooks import provider
    from commerce.timeutil import utcnow

    with app.test_request_context():
        for public_id in order_ids:
            order = db.session.scalar(select(Order).where(Order.public_id == public_id))
            now = utcnow()
            # A real sandbox intent, confirmed with the test card, so refunds go through it.
            payment = do_start_payment(
                db.session, provider(), order, now, return_url="/", webhook_url="http://x/"
            )
            provider().confirm(payment.provider_ref, card_number="4242424242424242")
            payment.state = "succeeded"
            lifecycle.do_transition(
                db.session, order, "paid", now, actor_id=None, values={"paid_at": now}
            )
            order_paid.send(order, session=db.session, provider=provider(), now=now)
            db.session.commit()


def settle_rest(app: Any) -> int:
    from sqlalchemy import update

    from commerce.extensions import db
    from commerce.groupbuy import settle
    from commerce.groupbuy.jobs import reverse_hook
    from commerce.groupbuy.models import Group
    from commerce.orders.models import Order
    from commerce.orders.services import do_expire_orders
    from commerce.payments.webhooks import provider
    from commerce.timeutil import utcnow

    with app.test_request_context():
        db.session.execute(
            update(Order)
            .where(Order.state == "pending_payment")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        do_expire_orders(db.session, utcnow())
        db.session.commit()
        db.session.execute(
            update(Group)
            .where(Group.state == "open")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        failed = 0
        while True:
            now = utcnow()
            done = settle.do_expire_groups(
                db.session, provider(), now, reverse_hook(db.session, now)
            )
            db.session.commit()
            failed += done
            if not done:
                return failed


def check(app: Any) -> dict[str, int]:
    from sqlalchemy import select

    from commerce.extensions import db
    from commerce.groupbuy.models import Group, GroupSeat
    from commerce.orders.models import Order

    with app.app_context():
        groups = list(db.session.scalars(select(Group)))
        assert all(g.paid + g.held <= g.size for g in groups), "a group over-filled"
        states = {
            s: sum(1 for g in groups if g.state == s) for s in ("succeeded", "failed", "open")
        }
        assert states["open"] == 0
        assert all(g.paid == g.size for g in groups if g.state == "succeeded")
        for g in groups:
            if g.state != "failed":
                continue
            for seat in db.session.scalars(
                select(GroupSeat).where(GroupSeat.group_id == g.id, GroupSeat.state != "released")
            ):
                order = db.session.get(Order, seat.order_id) if seat.order_id else None
                assert order is None or (
                    order.state == "refunded" and order.refunded_minor == order.total_minor
                ), (g.public_id, seat.id)
        return states


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    )
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    app = make_app(args.database_url, args.concurrency + 4)
    world = seed(app, args.buyers, args.groups)
    people = world["people"]
    joiners, plain_buyers = people[: args.buyers], people[args.buyers : 2 * args.buyers]
    rng = random.Random(7)
    calls = [
        (
            client_for(app, p),
            "/api/v1/group-orders",
            {
                "product_id": world["grouped"],
                "address_id": p[2],
                "group_id": rng.choice(world["groups"]),
            },
        )
        for p in joiners
    ]
    answers, group_seconds, group_ms = rush(calls, args.concurrency)
    held = [a.get_json()["order_id"] for a in answers if a.status_code == 201]
    refused = sum(1 for a in answers if a.status_code == 409)
    other = [a.status_code for a in answers if a.status_code not in (201, 409)]
    assert not other, other[:5]
    plain_calls = [
        (
            client_for(app, p),
            "/api/v1/orders",
            {"items": [{"product_id": world["plain"], "quantity": 1}], "address_id": p[2]},
        )
        for p in plain_buyers
    ]
    plain_answers, plain_seconds, plain_ms = rush(plain_calls, args.concurrency)
    assert all(a.status_code == 201 for a in plain_answers)
    # One seat holder in ten never pays: their order expires, the seat comes back, and the
    # group that cannot fill any more fails at its end and refunds its paid members.
    pay_all(app, [order_id for i, order_id in enumerate(held) if i % 10 != 9])
    settle_rest(app)
    states = check(app)
    group_rate = args.buyers / group_seconds
    plain_rate = args.buyers / plain_seconds
    print(f"join attempts: {args.buyers} on {args.groups} groups of 3, {args.concurrency} at once")
    print(f"  seats held {len(held)}, refused {refused} (group full), over-filled 0")
    print(f"  groups succeeded {states['succeeded']}, failed and refunded {states['failed']}")
    print(
        f"group joins  {group_rate:8.1f} req/s  ({group_seconds:.2f} s)  "
        f"p50 {pct(group_ms, 0.5):.0f} ms, p99 {pct(group_ms, 0.99):.0f} ms"
    )
    print(
        f"plain orders {plain_rate:8.1f} req/s  ({plain_seconds:.2f} s)  "
        f"p50 {pct(plain_ms, 0.5):.0f} ms, p99 {pct(plain_ms, 0.99):.0f} ms  (reference, same run)"
    )
    print(f"group_join_vs_plain_checkout={group_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()

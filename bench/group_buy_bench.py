"""1,000 buyers joining 100 open groups of 3 at once, next to a plain checkout in the same run.

Each buyer is a logged-in browser (its session cookie and CSRF token) POSTing
/api/v1/group-orders for a random open group over real HTTP to gunicorn processes (the flash
bench's servers, 32 requests in flight; --in-process uses Flask test clients in threads instead),
on PostgreSQL (BENCH_DATABASE_URL or --database-url; the database is emptied). Every seat held
is then paid through the path a payment webhook takes (a real sandbox intent confirmed, the
order marked paid, the `order_paid` signal seats the payer), except one holder in ten, whose order
reaches its deadline; the groups left unfilled expire through the refund service. Checks: no
group ever over-filled (paid + held <= size), every group succeeded or failed with each paid
order refunded in full. The reference: as many buyers placing a plain order of a product through
/api/v1/orders, same servers, same concurrency.

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
SECRET = "flash-bench-secret"  # the flash bench's servers (reused here) sign with it


def make_app(url: str, pool: int, *, csrf: bool = True) -> Any:
    from app import create_app

    options: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("postgresql"):
        options.update(pool_size=pool, max_overflow=pool)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": SECRET,
            "SERVER_NAME": None,
            "WTF_CSRF_ENABLED": csrf,  # the in-process clients send no token
        }
    )


def seed(app: Any, buyers: int, groups: int) -> dict[str, Any]:
    from bench.schema import ensure_database, fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.groupbuy.models import GroupCampaign
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
            group = open_group(campaign.id, leader.id, 3, now, timedelta(hours=1))
            ids.append(group.public_id)
        db.session.commit()
        addresses = {a.user_id: a.id for a in db.session.query(Address)}
        people = [(u.id, u.session_version, addresses[u.id]) for u in users]
        return {"grouped": grouped.id, "plain": plain.id, "groups": ids, "people": people}


def open_group(campaign_id: int, leader_id: int, size: int, now: Any, window: timedelta) -> Any:
    """An open group whose leader has paid her seat (written directly: the bench's set-up)."""
    from commerce.extensions import db
    from commerce.groupbuy import rules
    from commerce.groupbuy.models import Group, GroupSeat

    group = Group(
        public_id=uuid.uuid4().hex[:12],
        campaign_id=campaign_id,
        leader_id=leader_id,
        state=rules.OPEN,
        size=size,
        paid=1,
        held=0,
        opened_at=now,
        expires_at=now + window,
    )
    db.session.add(group)
    db.session.flush()
    db.session.add(
        GroupSeat(
            group_id=group.id,
            joined_group_id=group.id,
            campaign_id=campaign_id,
            user_id=leader_id,
            role="leader",
            state="paid",
            paid_at=now,
        )
    )
    return group


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


def browser_cookies(app: Any, people: list[tuple[int, int, int]]) -> list[dict[str, str]]:
    """Each buyer's logged-in session cookie and CSRF token, as their browser would hold them."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    signer = app.session_interface.get_signing_serializer(app)
    out = []
    for user_id, version, _address in people:
        with app.test_request_context("/"):
            g.pop("csrf_token", None)
            session["user_id"], session["session_version"] = user_id, version
            token = generate_csrf()
            out.append({"cookie": signer.dumps(dict(session)), "csrf": token})
    return out


def rush_http(
    ports: list[int], calls: list[tuple[dict[str, str], str, dict]], concurrency: int
) -> tuple[list[tuple[int, Any]], float, list[float]]:
    """The same rush over real HTTP to the served app (aiohttp, `concurrency` in flight)."""
    import asyncio

    import aiohttp

    async def run() -> tuple[list[tuple[int, Any]], float, list[float]]:
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

            async def one(index: int, call: tuple[dict[str, str], str, dict]) -> tuple[int, Any]:
                who, path, body = call
                headers = {
                    "Cookie": f"session={who['cookie']}",
                    "X-CSRFToken": who["csrf"],
                    "Idempotency-Key": uuid.uuid4().hex,
                }
                url = f"http://127.0.0.1:{ports[index % len(ports)]}{path}"
                async with gate:
                    began = time.perf_counter()
                    async with http.post(url, json=body, headers=headers) as response:
                        data = await response.json(content_type=None)
                        latencies.append((time.perf_counter() - began) * 1000)
                        return response.status, data

            started = time.perf_counter()
            answers = await asyncio.gather(*(one(i, c) for i, c in enumerate(calls)))
            return list(answers), time.perf_counter() - started, sorted(latencies)

    return asyncio.run(run())


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
        # The unpaid group orders reach their payment deadline (the plain orders stay as they are).
        db.session.execute(
            update(Order)
            .where(Order.state == "pending_payment", Order.ship_hold == "group")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        while do_expire_orders(db.session, utcnow()):
            db.session.commit()
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
    parser.add_argument("--processes", type=int, default=2, help="gunicorn server processes")
    parser.add_argument("--pool", type=int, default=12, help="DB connections per process")
    parser.add_argument(
        "--in-process", action="store_true", help="Flask test clients in threads, no sockets"
    )
    args = parser.parse_args()
    app = make_app(args.database_url, args.concurrency + 4, csrf=not args.in_process)
    world = seed(app, args.buyers, args.groups)
    people = world["people"]
    joiners, plain_buyers = people[: args.buyers], people[args.buyers : 2 * args.buyers]
    rng = random.Random(7)
    join_bodies = [
        {
            "product_id": world["grouped"],
            "address_id": p[2],
            "group_id": rng.choice(world["groups"]),
        }
        for p in joiners
    ]
    plain_bodies = [
        {"items": [{"product_id": world["plain"], "quantity": 1}], "address_id": p[2]}
        for p in plain_buyers
    ]
    procs: list[Any] = []
    if args.in_process:
        how = f"in-process test clients, {args.concurrency} threads"
        joined = [
            (client_for(app, p), "/api/v1/group-orders", b)
            for p, b in zip(joiners, join_bodies, strict=True)
        ]
        answers, group_seconds, group_ms = rush(joined, args.concurrency)
        group_answers = [(a.status_code, a.get_json()) for a in answers]
        plain = [
            (client_for(app, p), "/api/v1/orders", b)
            for p, b in zip(plain_buyers, plain_bodies, strict=True)
        ]
        answers, plain_seconds, plain_ms = rush(plain, args.concurrency)
        plain_answers = [(a.status_code, a.get_json()) for a in answers]
    else:
        from bench.flash_sale_bench import start_servers

        how = f"HTTP to {args.processes} gunicorn processes, {args.concurrency} in flight"
        ports, procs = start_servers(args.database_url, args.processes, args.pool, "gunicorn")
        try:
            cookies = browser_cookies(app, joiners + plain_buyers)
            joined_http = [
                (c, "/api/v1/group-orders", b)
                for c, b in zip(cookies[: args.buyers], join_bodies, strict=True)
            ]
            group_answers, group_seconds, group_ms = rush_http(ports, joined_http, args.concurrency)
            plain_http = [
                (c, "/api/v1/orders", b)
                for c, b in zip(cookies[args.buyers :], plain_bodies, strict=True)
            ]
            plain_answers, plain_seconds, plain_ms = rush_http(ports, plain_http, args.concurrency)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    held = [body["order_id"] for status, body in group_answers if status == 201]
    refused = sum(1 for status, _ in group_answers if status == 409)
    other = [(status, body) for status, body in group_answers if status not in (201, 409)]
    assert not other, other[:3]
    assert all(status == 201 for status, _ in plain_answers), plain_answers[:3]
    # One seat holder in ten never pays: their order expires, the seat comes back, and the
    # group that cannot fill any more fails at its end and refunds its paid members.
    pay_all(app, [order_id for i, order_id in enumerate(held) if i % 10 != 9])
    settle_rest(app)
    states = check(app)
    group_rate = args.buyers / group_seconds
    plain_rate = args.buyers / plain_seconds
    print(f"join attempts: {args.buyers} on {args.groups} groups of 3 ({how}), PostgreSQL")
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

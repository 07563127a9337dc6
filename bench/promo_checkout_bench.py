"""Checkout with promotions (a coupon + a group price) next to a plain checkout, same run.

N buyers per kind, each a logged-in browser (session cookie, CSRF token), check out over real
HTTP against gunicorn processes (the flash bench's servers) on PostgreSQL: place the order,
start its payment, pay on the sandbox's card page, then the provider's signed webhook marks it
paid (the bench sends it, as the sandbox's delivery job would: the servers run no job worker).

    plain   POST /api/v1/orders: one product, no promotion.
    promo   POST /api/v1/group-orders: the group price, with the buyer's claimed shop coupon
            applied (the best applies by itself); half the buyers join an open group (and fill
            it: the group succeeds on payment), half open a new one (it opens on payment).

Points (积分): each promo buyer holds 1,000 points and spends 200 of them (¥2 off at 100 points a
¥1; within the 50 % cap) in the same checkout (`points_step`). Checks: every order paid; each
promo order used one coupon, the group price and the points; the joined groups succeeded, the
opened ones are open with their leader paid.

    python bench/promo_checkout_bench.py [--database-url URL] [--buyers 400] [--concurrency 32]

The URL defaults to $BENCH_DATABASE_URL, else postgresql://.../promo_checkout_bench; emptied.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.flash_sale_bench import SECRET, bench_app, pct, start_servers
from bench.group_buy_bench import open_group

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/promo_checkout_bench"
PRICE, GROUP_PRICE, COUPON_OFF = 1000, 700, 100
CARD = "4242424242424242"


# ----------------------------------------------------------------------------- points (积分)
# Each promo buyer is given POINTS_HELD in `seed` (a check-in entry through the ledger) and
# spends POINTS_SPENT in her checkout: ¥2 off at the default 100 points a ¥1.
POINTS_IN_RUN = True
POINTS_HELD, POINTS_SPENT, POINTS_OFF = 1000, 200, 200


def points_step(buyer: dict[str, Any]) -> dict[str, Any]:
    """Extra fields of a promo buyer's order body that spend her points."""
    return {"points_to_use": POINTS_SPENT}


# ----------------------------------------------------------------------------- the world


def seed(app: Any, buyers: int, warmup: int) -> dict[str, Any]:
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from bench.schema import ensure_database, fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.coupons.models import Coupon, CouponTemplate
    from commerce.extensions import db
    from commerce.groupbuy.models import GroupCampaign
    from commerce.orders.models import Address
    from commerce.timeutil import utcnow

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        ensure_database(app.config["SQLALCHEMY_DATABASE_URI"])
    now = utcnow()
    with app.app_context():
        fresh_schema()
        shop = User(
            email="shop@bench", display_name="Shop", bio="", is_merchant=True, password_hash="!"
        )
        db.session.add(shop)
        db.session.flush()
        stock = 10 * buyers
        plain = Product(
            merchant_id=shop.id, title="Plain tea", price_minor=PRICE, currency="CNY", stock=stock
        )
        grouped = Product(
            merchant_id=shop.id, title="Group tea", price_minor=PRICE, currency="CNY", stock=stock
        )
        db.session.add_all([plain, grouped])
        db.session.flush()
        campaign = GroupCampaign(
            product_id=grouped.id,
            merchant_id=shop.id,
            price_minor=GROUP_PRICE,
            group_size=2,
            per_person_limit=5,
        )
        template = CouponTemplate(
            owner_id=shop.id,
            merchant_id=shop.id,
            title="Bench coupon",
            amount_minor=COUPON_OFF,
            min_spend_minor=500,
            claim_starts_at=now - timedelta(days=1),
            claim_ends_at=now + timedelta(days=1),
            valid_days=7,
            total=buyers,
            claimed=buyers,
        )
        db.session.add_all([campaign, template])
        leaders_needed = buyers // 2
        users = [
            User(email=f"b{i}@bench", display_name=f"B{i}", bio="", password_hash="!")
            for i in range(2 * buyers + leaders_needed + warmup)
        ]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(
            [
                Address(user_id=u.id, name="B", phone="123456", line1="1 Road", city="Shanghai")
                for u in users
            ]
        )
        plain_users, promo_users = users[:buyers], users[buyers : 2 * buyers]
        # Each promo buyer claimed the shop coupon before checking out.
        db.session.add_all(
            [
                Coupon(
                    template_id=template.id,
                    user_id=u.id,
                    n=1,
                    valid_from=now - timedelta(hours=1),
                    expires_at=now + timedelta(days=7),
                    claimed_at=now - timedelta(hours=1),
                )
                for u in promo_users
            ]
        )
        from commerce.points import ledger
        from commerce.points.models import CHECKIN

        for u in promo_users:  # the points each promo buyer spends part of
            ledger.post(
                db.session,
                user_id=u.id,
                kind=CHECKIN,
                amount=POINTS_HELD,
                key=f"bench:{u.id}",
                now=now - timedelta(hours=1),
            )
        open_ids = []
        warm_users = users[2 * buyers + leaders_needed :]
        for leader in users[
            2 * buyers : 2 * buyers + leaders_needed
        ]:  # groups of 2 with their leader paid: one seat left
            group = open_group(campaign.id, leader.id, 2, now, timedelta(hours=2))
            open_ids.append(group.public_id)
        db.session.commit()
        addresses = {a.user_id: a.id for a in db.session.query(Address)}
        signer = app.session_interface.get_signing_serializer(app)

        def browser(user: Any) -> dict[str, Any]:
            with app.test_request_context("/"):
                g.pop("csrf_token", None)
                session["user_id"], session["session_version"] = user.id, user.session_version
                token = generate_csrf()
                cookie = signer.dumps(dict(session))
            return {
                "user_id": user.id,
                "cookie": cookie,
                "csrf": token,
                "address": addresses[user.id],
            }

        plain_buyers = [browser(u) for u in plain_users]
        promo_buyers = [browser(u) for u in promo_users]
        warm_buyers = [browser(u) for u in warm_users]
        warm_bodies = [
            (
                "/api/v1/orders",
                {"items": [{"product_id": plain.id, "quantity": 1}], "address_id": b["address"]},
            )
            for b in warm_buyers
        ]
        plain_bodies = [
            (
                "/api/v1/orders",
                {"items": [{"product_id": plain.id, "quantity": 1}], "address_id": b["address"]},
            )
            for b in plain_buyers
        ]
        promo_bodies = []
        for i, b in enumerate(promo_buyers):
            body: dict[str, Any] = {"product_id": grouped.id, "address_id": b["address"]}
            if i % 2 == 0 and i // 2 < len(open_ids):
                body["group_id"] = open_ids[i // 2]  # join (and fill) an open group
            body.update(points_step(b))
            promo_bodies.append(("/api/v1/group-orders", body))
        return {
            "plain": list(zip(plain_buyers, plain_bodies, strict=True)),
            "promo": list(zip(promo_buyers, promo_bodies, strict=True)),
            "warmup": list(zip(warm_buyers, warm_bodies, strict=True)),
            "template": template.id,
            "secret": _webhook_secret(app),
        }


def _webhook_secret(app: Any) -> str:
    from commerce.payments.provider import webhook_secret

    return webhook_secret(app.config)


# ----------------------------------------------------------------------------- the checkouts


async def checkouts(
    ports: list[int],
    runs: list[tuple[dict[str, Any], tuple[str, dict]]],
    concurrency: int,
    secret: str,
) -> tuple[list[tuple[int, str]], float, list[float]]:
    """Each buyer's whole checkout (4 requests), `concurrency` buyers at once."""
    import aiohttp

    from commerce.payments.provider import SIGNATURE_HEADER, sign

    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(index: int, buyer: dict[str, Any], path: str, body: dict) -> tuple[int, str]:
            base = f"http://127.0.0.1:{ports[index % len(ports)]}"
            headers = {"Cookie": f"session={buyer['cookie']}", "X-CSRFToken": buyer["csrf"]}
            async with gate:
                began = time.perf_counter()
                async with http.post(
                    base + path, json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex}
                ) as placed:
                    answer = await placed.json(content_type=None)
                    if placed.status != 201:
                        return placed.status, json.dumps(answer)[:200]
                order_id = answer["order_id"] if "order_id" in answer else answer["orders"][0]["id"]
                async with http.post(
                    f"{base}/api/v1/orders/{order_id}/payments",
                    json={},
                    headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
                ) as started:
                    payment = await started.json(content_type=None)
                    if started.status != 201:
                        return started.status, json.dumps(payment)[:200]
                async with http.post(
                    f"{base}/pay/sandbox/{payment['intent_id']}",
                    data={"card_number": CARD, "csrf_token": buyer["csrf"]},
                    headers={"Cookie": headers["Cookie"]},
                    allow_redirects=False,
                ) as paid:
                    if paid.status != 302:
                        return paid.status, "card refused"
                # The provider's webhook, as the sandbox's delivery job sends it.
                event = {
                    "id": f"evt_{uuid.uuid4().hex}",
                    "type": "payment_intent.succeeded",
                    "created": int(time.time()),
                    "data": {
                        "object": {
                            "id": payment["intent_id"],
                            "object": "payment_intent",
                            "amount": payment["amount_minor"],
                            "currency": payment["currency"],
                            "status": "succeeded",
                            "reference": order_id,
                        }
                    },
                }
                raw = json.dumps(event).encode()
                async with http.post(
                    f"{base}/api/v1/payments/webhook/sandbox",
                    data=raw,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: sign(secret, int(time.time()), raw),
                    },
                ) as hooked:
                    result = await hooked.json(content_type=None)
                latencies.append(time.perf_counter() - began)
                return hooked.status, str(result.get("result", ""))

        started = time.perf_counter()
        answers = await asyncio.gather(
            *(one(i, buyer, path, body) for i, (buyer, (path, body)) in enumerate(runs))
        )
        return list(answers), time.perf_counter() - started, sorted(latencies)


def check(app: Any, buyers: int, warmup: int, template_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from commerce.coupons.models import Coupon
    from commerce.extensions import db
    from commerce.groupbuy.models import Group
    from commerce.orders.models import Order

    with app.app_context():
        totals = dict(
            db.session.execute(
                select(Order.total_minor, func.count())
                .where(Order.state == "paid")
                .group_by(Order.total_minor)
            ).all()
        )
        used = db.session.scalar(
            select(func.count()).where(Coupon.template_id == template_id, Coupon.state == "used")
        )
        groups = dict(
            db.session.execute(select(Group.state, func.count()).group_by(Group.state)).all()
        )
        # Plain orders pay the list price; promo orders the group price less the coupon and
        # the points.
        promo_total = GROUP_PRICE - COUPON_OFF - (POINTS_OFF if POINTS_IN_RUN else 0)
        assert totals == {PRICE: buyers + warmup, promo_total: buyers}, totals
        if POINTS_IN_RUN:
            from commerce.points.models import PointsAccount

            left = dict(
                db.session.execute(
                    select(PointsAccount.balance, func.count()).group_by(PointsAccount.balance)
                ).all()
            )
            assert left == {POINTS_HELD - POINTS_SPENT: buyers}, ("points left", left)
        assert used == buyers, ("coupons used", used)
        joined = sum(1 for i in range(buyers) if i % 2 == 0 and i // 2 < buyers // 2)
        assert groups.get("succeeded", 0) == joined, groups
        assert groups.get("open", 0) == (buyers // 2 - joined) + (buyers - joined), groups
        return {"used": used, **groups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    )
    parser.add_argument("--buyers", type=int, default=400, help="buyers per kind of checkout")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="gunicorn server processes")
    parser.add_argument("--pool", type=int, default=12, help="DB connections per process")
    parser.add_argument("--warmup", type=int, default=32, help="plain checkouts first, unmeasured")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this bench runs on PostgreSQL (--database-url postgresql+psycopg://...)")
    app = bench_app(args.database_url, 4)
    assert app.config["SECRET_KEY"] == SECRET  # the servers sign sessions with the same key
    world = seed(app, args.buyers, args.warmup)
    load = os.getloadavg()
    print(
        f"checkout: {args.buyers} buyers per kind, {args.concurrency} at once, HTTP to "
        f"{args.processes} gunicorn processes, PostgreSQL; load average before "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs"
    )
    print("  each checkout: place, start the payment, pay on the card page, the signed webhook")
    print(
        "  points: "
        + (
            "spent in each promo checkout"
            if POINTS_IN_RUN
            else "NOT in this run (add them in points_step())"
        )
    )
    ports, procs = start_servers(args.database_url, args.processes, args.pool, "gunicorn")
    try:
        figures = {}
        asyncio.run(checkouts(ports, world["warmup"], args.concurrency, world["secret"]))
        for kind in ("plain", "promo"):
            answers, seconds, ms = asyncio.run(
                checkouts(ports, world[kind], args.concurrency, world["secret"])
            )
            bad = [a for a in answers if a[0] != 200]
            assert not bad, (kind, bad[:3])
            figures[kind] = (args.buyers / seconds, seconds, ms)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    facts = check(app, args.buyers, args.warmup, world["template"])
    print(
        f"  checks: {2 * args.buyers} orders paid (+{args.warmup} warm-up); "
        f"{facts['used']} coupons used; groups succeeded {facts.get('succeeded', 0)}, "
        f"opened and waiting {facts.get('open', 0)}"
    )
    load = os.getloadavg()
    for kind, label in (
        ("plain", "plain checkout               "),
        ("promo", "coupon + points + group price"),
    ):
        rate, seconds, ms = figures[kind]
        note = "  (reference, same run)" if kind == "plain" else ""
        print(
            f"{label} {rate:7.1f} checkouts/s ({seconds:.2f} s)  "
            f"p50 {pct(ms, 0.5):.0f} ms  p99 {pct(ms, 0.99):.0f} ms{note}"
        )
    print(f"  load average after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"promo_checkout_vs_plain={figures['promo'][0] / figures['plain'][0]:.2f}")


if __name__ == "__main__":
    main()

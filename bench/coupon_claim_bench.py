"""A LIVE voucher claim storm through the served app, next to the bare SQL claim in the same run.

1,000 viewers (200 at once, asyncio tasks) claim a voucher with 100 units pinned in a live room:
each POSTs /api/v1/coupons/templates/<id>/claim with its room to the app served by real HTTP
servers on loopback (gunicorn's threaded worker, several processes); a tenth of the viewers
claim twice at the same moment (two tabs). It checks that exactly 100 coupons exist, the
template's counter says 100 and nobody holds two, and prints throughput and p50/p99 latency.
The reference: the same statements (holder's counter, the template's conditional UPDATE, the
coupon row) as a bare SQL transaction loop against the same database.

    python bench/coupon_claim_bench.py [--database-url URL] [--claimers 1000] [--concurrency 200]

The URL defaults to $BENCH_DATABASE_URL, else a fresh SQLite file. The database is emptied.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from bench.flash_sale_bench import bench_app, pct, start_servers

UNITS = 100


def prepare(url: str, claimers: int) -> tuple[int, str, list[dict[str, Any]]]:
    """A migrated, empty database; a live room with a pinned voucher; signed-in viewers."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.coupons.models import CouponTemplate, LiveVoucher
    from commerce.extensions import db
    from commerce.live.models import LiveRoom
    from commerce.timeutil import utcnow

    app = bench_app(url, 5)
    with app.app_context():
        fresh_schema()
        now = utcnow()
        host = User(
            email="host@bench",
            display_name="Host",
            bio="",
            is_merchant=True,
            is_creator=True,
            password_hash="!",
        )
        db.session.add(host)
        db.session.flush()
        room = LiveRoom(
            public_id="benchroom", creator_id=host.id, title="Storm", state="live", started_at=now
        )
        template = CouponTemplate(
            owner_id=host.id,
            merchant_id=host.id,
            title="Storm voucher",
            amount_minor=500,
            claim_starts_at=now - timedelta(minutes=1),
            claim_ends_at=now + timedelta(hours=2),
            valid_days=1,
            total=UNITS,
            per_person=1,
            live_only=True,
        )
        db.session.add_all([room, template])
        db.session.flush()
        db.session.add(LiveVoucher(room_id=room.id, template_id=template.id, pinned_at=now))
        users = [
            User(email=f"v{i}@bench", display_name=f"V{i}", bio="", password_hash="!")
            for i in range(claimers)
        ]
        db.session.add_all(users)
        db.session.commit()
        signer = app.session_interface.get_signing_serializer(app)
        people = []
        for user in users:
            with app.test_request_context("/"):
                g.pop("csrf_token", None)
                session["user_id"] = user.id
                token = generate_csrf()
                cookie = signer.dumps(dict(session))
            people.append({"user_id": user.id, "cookie": cookie, "csrf": token})
        template_id = template.id
        db.engine.dispose()
    return template_id, "benchroom", people


async def storm_async(
    ports: list[int],
    people: list[dict[str, Any]],
    template_id: int,
    room: str,
    concurrency: int,
    twice_every: int,
) -> dict[str, Any]:
    import aiohttp

    calls = []
    for index, person in enumerate(people):
        calls.append((ports[index % len(ports)], person))
        if twice_every and index % twice_every == 0:  # the same viewer in a second tab
            calls.append((ports[(index + 1) % len(ports)], person))
    results: list[tuple[int, float]] = []
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def claim(port: int, person: dict[str, Any]) -> None:
            headers = {"Cookie": f"session={person['cookie']}", "X-CSRFToken": person["csrf"]}
            url = f"http://127.0.0.1:{port}/api/v1/coupons/templates/{template_id}/claim"
            async with gate:
                started = time.perf_counter()
                async with http.post(url, json={"room_id": room}, headers=headers) as response:
                    await response.read()
                    results.append((response.status, time.perf_counter() - started))

        started = time.perf_counter()
        await asyncio.gather(*(claim(*call) for call in calls))
        elapsed = time.perf_counter() - started
    return {"results": results, "elapsed": elapsed}


def check(url: str, template_id: int) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        coupons = conn.execute(text("SELECT count(*) FROM coupons")).scalar_one()
        claimed = conn.execute(
            text("SELECT claimed FROM coupon_templates WHERE id = :id"), {"id": template_id}
        ).scalar_one()
        most = conn.execute(
            text("SELECT max(n) FROM (SELECT count(*) AS n FROM coupons GROUP BY user_id) AS t")
        ).scalar_one()
    engine.dispose()
    return {"coupons": coupons, "claimed": claimed, "most_per_person": most or 0}


def bare_sql(url: str, template_id: int, people: list[dict[str, Any]], concurrency: int) -> dict:
    """The claim's statements, one transaction per viewer, no HTTP, no ORM, no Flask."""
    engine = create_engine(url, pool_size=concurrency, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coupons"))
        conn.execute(text("DELETE FROM coupon_holdings"))
        conn.execute(
            text("UPDATE coupon_templates SET claimed = 0 WHERE id = :id"), {"id": template_id}
        )
    hold = (
        "INSERT INTO coupon_holdings (template_id, user_id, count) VALUES (:t, :u, 0) "
        "ON CONFLICT DO NOTHING"
    )
    counter = (
        "UPDATE coupon_holdings SET count = count + 1 "
        "WHERE template_id = :t AND user_id = :u AND count < 1"
    )
    take = "UPDATE coupon_templates SET claimed = claimed + 1 WHERE id = :t AND claimed < total"
    insert = (
        "INSERT INTO coupons (template_id, user_id, n, source, state, claimed_at, valid_from, "
        "expires_at, discount_minor) VALUES (:t, :u, 1, 'live', 'valid', :now, :now, :until, 0)"
    )
    won: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    from commerce.timeutil import utcnow

    def claim(person: dict[str, Any]) -> None:
        started = time.perf_counter()
        now = utcnow()
        params = {
            "t": template_id,
            "u": person["user_id"],
            "now": now,
            "until": now + timedelta(days=1),
        }
        with engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text(hold), params)
            ok = conn.execute(text(counter), params).rowcount == 1
            ok = ok and conn.execute(text(take), params).rowcount == 1
            if ok:
                conn.execute(text(insert), params)
                tx.commit()
            else:
                tx.rollback()
        with lock:
            latencies.append(time.perf_counter() - started)
            if ok:
                won.append(person["user_id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(claim, people))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"elapsed": elapsed, "won": len(won), "latencies": latencies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--claimers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--processes", type=int, default=3, help="server processes")
    parser.add_argument("--pool", type=int, default=12, help="DB connections per process")
    parser.add_argument("--twice-every", type=int, default=10, help="every Nth viewer claims twice")
    parser.add_argument("--sql-concurrency", type=int, default=16)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='coupon-bench-')}/bench.sqlite3"
    engine_name = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"LIVE voucher claim storm: {args.claimers} viewers, {args.concurrency} at once, "
        f"{UNITS} units, {args.processes} {args.server} processes, {engine_name}"
    )
    template_id, room, people = prepare(url, args.claimers)
    ports, procs = start_servers(url, args.processes, args.pool, args.server)
    try:
        outcome = asyncio.run(
            storm_async(ports, people, template_id, room, args.concurrency, args.twice_every)
        )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    facts = check(url, template_id)
    statuses: dict[int, int] = {}
    for status, _seconds in outcome["results"]:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = [seconds for _status, seconds in outcome["results"]]
    requests = len(outcome["results"])
    http_rate = requests / outcome["elapsed"]
    sql = bare_sql(url, template_id, people, args.sql_concurrency)
    sql_rate = args.claimers / sql["elapsed"]
    ok = (
        facts["coupons"] == UNITS
        and facts["claimed"] == UNITS
        and facts["most_per_person"] <= 1
        and statuses.get(201) == UNITS
        and set(statuses) <= {201, 409}
        and sql["won"] == UNITS
    )
    print(
        f"  HTTP claims: {requests} requests in {outcome['elapsed']:.2f} s = "
        f"{http_rate:.0f} req/s; "
        f"p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    print(
        f"  coupons {facts['coupons']} (must be {UNITS}), template counter {facts['claimed']}, "
        f"most coupons of one viewer {facts['most_per_person']} (must be <= 1)"
    )
    print(
        f"  bare SQL claim ({args.sql_concurrency} threads): {args.claimers} transactions in "
        f"{sql['elapsed']:.2f} s = {sql_rate:.0f} tx/s; p50 {pct(sql['latencies'], 0.5):.1f} ms, "
        f"p99 {pct(sql['latencies'], 0.99):.1f} ms; won {sql['won']}"
    )
    print(
        f"coupon_claims={facts['coupons']} http_claims_per_s={http_rate:.0f} "
        f"sql_claims_per_s={sql_rate:.0f} ratio={http_rate / sql_rate:.2f} "
        f"status={'OK' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

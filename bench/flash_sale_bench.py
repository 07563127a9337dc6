"""A flash sale through the real HTTP checkout, next to the bare SQL reservation in the same run.

1,000 buyers (200 at once, asyncio tasks) race for 100 units: each POSTs /api/v1/orders with its own
Idempotency-Key to the app served by real HTTP servers on loopback (several processes, each
gunicorn's threaded worker as in the README's scale-out, or --server werkzeug); a tenth of
the buyers also retry with the same key at the same moment. It checks that exactly 100 orders
exist, stock never went negative and each retried key made one order, and prints throughput
and p50/p99 latency. The reference: the same reservation statements (buyer counter, stock) as
a bare SQL transaction loop against the same database.

    python bench/flash_sale_bench.py [--database-url URL] [--buyers 1000] [--concurrency 200]

The URL defaults to $BENCH_DATABASE_URL, else a fresh SQLite file. The database is emptied.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

SECRET = "flash-bench-secret"
UNITS = 100


def bench_app(url: str, pool: int) -> Any:
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
        }
    )


# The servers ------------------------------------------------------------------------------


def serve(url: str, port: int, pool: int, server: str) -> None:
    """One server process: gunicorn's threaded worker (as deployed), or werkzeug's (make run)."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if server == "werkzeug":
        from werkzeug.serving import make_server

        httpd = make_server("127.0.0.1", port, bench_app(url, pool), threaded=True)
        httpd.request_queue_size = 1024
        print("ready", flush=True)
        httpd.serve_forever()
        return
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"127.0.0.1:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": pool,
                "backlog": 2048,
                "loglevel": "warning",
                "post_worker_init": lambda _worker: print("ready", flush=True),
            }
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return bench_app(url, pool)

    Gunicorn().run()


def start_servers(
    url: str, count: int, pool: int, server: str
) -> tuple[list[int], list[subprocess.Popen]]:
    import socket

    ports, procs = [], []
    for _ in range(count):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(port),
                "--database-url",
                url,
                "--pool",
                str(pool),
                "--server",
                server,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        ports.append(port)
        procs.append(proc)
    return ports, procs


# Setting up the sale ---------------------------------------------------------------------


def prepare(url: str, buyers: int) -> tuple[int, list[dict[str, Any]]]:
    """A migrated, empty database; a product with 100 units; buyers with sessions and addresses."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.orders.models import Address

    app = bench_app(url, 5)
    with app.app_context():
        fresh_schema()
        merchant = User(
            email="shop@bench", display_name="Shop", bio="", is_merchant=True, password_hash="!"
        )
        db.session.add(merchant)
        db.session.flush()
        product = Product(
            merchant_id=merchant.id,
            title="Flash tea",
            price_minor=990,
            currency="CNY",
            stock=UNITS,
            per_buyer_limit=1,
        )
        db.session.add(product)
        users = [
            User(email=f"b{i}@bench", display_name=f"B{i}", bio="", password_hash="!")
            for i in range(buyers)
        ]
        db.session.add_all(users)
        db.session.flush()
        addresses = [
            Address(user_id=u.id, name="B", phone="123456", line1="1 Road", city="Shanghai")
            for u in users
        ]
        db.session.add_all(addresses)
        db.session.commit()
        signer = app.session_interface.get_signing_serializer(app)
        people = []
        for user, address in zip(users, addresses, strict=True):
            # A logged-in browser: the session cookie and CSRF token it would have.
            with app.test_request_context("/"):
                g.pop("csrf_token", None)  # g lives in the app context shared by the loop
                session["user_id"] = user.id
                token = generate_csrf()
                cookie = signer.dumps(dict(session))
            people.append(
                {"user_id": user.id, "address_id": address.id, "cookie": cookie, "csrf": token}
            )
        product_id = product.id
        db.engine.dispose()
    return product_id, people


# The race --------------------------------------------------------------------------------


async def race_async(
    ports: list[int],
    people: list[dict[str, Any]],
    product_id: int,
    concurrency: int,
    retry_every: int,
) -> dict[str, Any]:
    """The buyers as asyncio tasks, `concurrency` in flight: the load stays cheap to generate."""
    import aiohttp

    calls: list[tuple[int, dict[str, Any], str]] = []
    for index, person in enumerate(people):
        key = uuid.uuid4().hex
        person["key"] = key
        calls.append((ports[index % len(ports)], person, key))
        if retry_every and index % retry_every == 0:  # a retry of the same attempt
            calls.append((ports[(index + 1) % len(ports)], person, key))
    results: list[tuple[int, Any, float, str]] = []
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def buy(port: int, person: dict[str, Any], key: str) -> None:
            body = {
                "items": [{"product_id": product_id, "quantity": 1}],
                "address_id": person["address_id"],
            }
            headers = {
                "Cookie": f"session={person['cookie']}",
                "X-CSRFToken": person["csrf"],
                "Idempotency-Key": key,
            }
            async with gate:
                started = time.perf_counter()
                async with http.post(
                    f"http://127.0.0.1:{port}/api/v1/orders", json=body, headers=headers
                ) as response:
                    data = await response.json(content_type=None)
                    results.append((response.status, data, time.perf_counter() - started, key))

        started = time.perf_counter()
        await asyncio.gather(*(buy(*call) for call in calls))
        elapsed = time.perf_counter() - started
    return {
        "results": results,
        "elapsed": elapsed,
        "retried": sum(1 for i in range(len(people)) if retry_every and i % retry_every == 0),
    }


def race(
    ports: list[int],
    people: list[dict[str, Any]],
    product_id: int,
    concurrency: int,
    retry_every: int,
) -> dict[str, Any]:
    return asyncio.run(race_async(ports, people, product_id, concurrency, retry_every))


def check(url: str, product_id: int, outcome: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        orders = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
        stock = conn.execute(
            text("SELECT stock FROM products WHERE id = :id"), {"id": product_id}
        ).scalar_one()
        per_buyer = conn.execute(
            text("SELECT max(n) FROM (SELECT count(*) AS n FROM orders GROUP BY buyer_id) AS t")
        ).scalar_one()
    engine.dispose()
    by_key: dict[str, set[str]] = {}
    for status, data, _seconds, key in outcome["results"]:
        if status == 201:
            by_key.setdefault(key, set()).add(data["orders"][0]["id"])
    return {
        "orders": orders,
        "stock": stock,
        "max_orders_per_buyer": per_buyer or 0,
        "keys_with_two_orders": sum(1 for ids in by_key.values() if len(ids) > 1),
    }


# The reference: the bare reservation -------------------------------------------------------


def bare_sql(
    url: str, product_id: int, people: list[dict[str, Any]], concurrency: int
) -> dict[str, Any]:
    """The same conditional statements, one transaction per buyer, no HTTP, no ORM, no Flask."""
    from sqlalchemy import create_engine

    engine = create_engine(url, pool_size=concurrency, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE products SET stock = :n WHERE id = :id"), {"n": UNITS, "id": product_id}
        )
        conn.execute(text("DELETE FROM purchase_counters"))
    insert = (
        "INSERT INTO purchase_counters (buyer_id, product_id, quantity) VALUES (:b, :p, 0) "
        "ON CONFLICT DO NOTHING"
    )
    counter = (
        "UPDATE purchase_counters SET quantity = quantity + 1 "
        "WHERE buyer_id = :b AND product_id = :p AND quantity + 1 <= 1"
    )
    stock = "UPDATE products SET stock = stock - 1 WHERE id = :p AND stock >= 1"
    won = []
    latencies: list[float] = []
    lock = threading.Lock()

    def reserve(person: dict[str, Any]) -> None:
        started = time.perf_counter()
        params = {"b": person["user_id"], "p": product_id}
        with engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text(insert), params)
            ok = conn.execute(text(counter), params).rowcount == 1
            ok = ok and conn.execute(text(stock), params).rowcount == 1
            if ok:
                tx.commit()
            else:
                tx.rollback()
        with lock:
            latencies.append(time.perf_counter() - started)
            if ok:
                won.append(person["user_id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(reserve, people))
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT stock FROM products WHERE id = :id"), {"id": product_id}
        ).scalar_one()
    engine.dispose()
    return {"elapsed": elapsed, "won": len(won), "stock": left, "latencies": latencies}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    # Three processes on two cores: one runs Python while the others wait on the database.
    parser.add_argument("--processes", type=int, default=3, help="server processes")
    # Keep processes x 2 x pool under PostgreSQL's max_connections (100 by default).
    parser.add_argument("--pool", type=int, default=12, help="DB connections per process")
    parser.add_argument("--retry-every", type=int, default=10, help="every Nth buyer retries")
    parser.add_argument("--sql-concurrency", type=int, default=16)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.serve, args.pool, args.server)
        return 0
    folder = None
    url = args.database_url
    if not url:
        folder = tempfile.mkdtemp(prefix="flash-bench-")
        url = f"sqlite:///{folder}/bench.sqlite3"
    engine_name = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"flash sale: {args.buyers} buyers, {args.concurrency} at once, {UNITS} units, "
        f"{args.processes} {args.server} processes, {engine_name}"
    )
    product_id, people = prepare(url, args.buyers)
    ports, procs = start_servers(url, args.processes, args.pool, args.server)
    try:
        outcome = race(ports, people, product_id, args.concurrency, args.retry_every)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    facts = check(url, product_id, outcome)
    statuses: dict[int, int] = {}
    for status, *_ in outcome["results"]:
        statuses[status] = statuses.get(status, 0) + 1
    for status, data, *_ in outcome["results"]:
        if status not in (201, 409):
            print(f"  e.g. {status}: {data}")
            break
    latencies = [seconds for _s, _d, seconds, _k in outcome["results"]]
    requests = len(outcome["results"])
    http_rate = requests / outcome["elapsed"]
    sql = bare_sql(url, product_id, people, args.sql_concurrency)
    sql_rate = args.buyers / sql["elapsed"]
    ok = (
        facts["orders"] == UNITS
        and facts["stock"] == 0
        and facts["keys_with_two_orders"] == 0
        and facts["max_orders_per_buyer"] <= 1
        and sql["won"] == UNITS
        and sql["stock"] == 0
    )
    print(
        f"  HTTP checkout: {requests} requests ({outcome['retried']} retried keys) in "
        f"{outcome['elapsed']:.2f} s = {http_rate:.0f} req/s; "
        f"p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    print(
        f"  orders placed {facts['orders']} (must be {UNITS}), stock left {facts['stock']} "
        f"(never negative: CHECK stock >= 0), most orders of one buyer "
        f"{facts['max_orders_per_buyer']}, retried keys with two orders "
        f"{facts['keys_with_two_orders']}"
    )
    print(
        f"  bare SQL reservation ({args.sql_concurrency} threads): {args.buyers} transactions "
        f"in {sql['elapsed']:.2f} s = {sql_rate:.0f} tx/s; "
        f"p50 {pct(sql['latencies'], 0.5):.1f} ms, "
        f"p99 {pct(sql['latencies'], 0.99):.1f} ms; won {sql['won']}, stock left {sql['stock']}"
    )
    print(
        f"  ratio HTTP / bare SQL: {http_rate / sql_rate:.2f}   "
        f"{'OK' if ok else 'FAILED: oversold or duplicated'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

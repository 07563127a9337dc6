"""Pin propagation: the creator pins a product; how long until the last of 1,000 viewers has it?

Our path: 1,000 Socket.IO viewers joined to one live room (`live.join`) on the app served as
`flask serve` serves it (Flask-SocketIO, threading mode, WebSocket); the creator POSTs
/api/v1/live/rooms/<id>/pins (or DELETEs the pin), which commits and then broadcasts `live.pins`.
The reference, same run, same machine: a bare python-socketio server in the same async mode
whose HTTP endpoint broadcasts the same payload to the same number of viewers, with no app,
database or session around it. Both are measured from the moment the request is sent to each
viewer's arrival, on one clock: the viewers and the trigger share this process.

    python bench/pin_fanout_bench.py [--viewers 1000] [--rounds 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECRET = "pin-bench-secret"


def bench_app(url: str) -> Any:
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "SERVER_NAME": None})


# The servers ------------------------------------------------------------------------------


def serve_app(url: str, port: int) -> None:
    import logging

    from commerce.extensions import socketio

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = bench_app(url)
    print("ready", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, log_output=False)


def serve_bare(port: int) -> None:
    """python-socketio alone: a join event and an HTTP trigger that broadcasts a payload."""
    import logging

    import socketio
    from werkzeug.serving import run_simple

    sio = socketio.Server(async_mode="threading")

    @sio.on("join")
    def join(sid: str, room: str) -> dict[str, bool]:
        sio.enter_room(sid, room)
        return {"ok": True}

    def trigger(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(size))
        sio.emit("live.pins", payload, to="room")
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b"{}"]

    app = socketio.WSGIApp(sio, trigger)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print("ready", flush=True)
    run_simple("127.0.0.1", port, app, threaded=True)


def start(args: list[str], port: int) -> subprocess.Popen:
    import socket

    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for _ in range(100):  # "ready" comes just before the server binds its port
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The room ---------------------------------------------------------------------------------


def prepare(url: str) -> dict[str, Any]:
    """A migrated, empty database; a creator who is live with three products on the shelf."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.live import services
    from commerce.live.schemas import RoomIn
    from commerce.timeutil import utcnow

    app = bench_app(url)
    with app.app_context():
        fresh_schema()
        creator = User(
            email="live@bench",
            display_name="Live",
            bio="",
            is_creator=True,
            is_merchant=True,
            password_hash="!",
        )
        db.session.add(creator)
        db.session.flush()
        products = [
            Product(
                merchant_id=creator.id,
                title=f"Tea {n}",
                price_minor=990,
                currency="CNY",
                stock=100,
            )
            for n in range(3)
        ]
        db.session.add_all(products)
        db.session.flush()
        now = utcnow()
        room = services.do_schedule_room(
            db.session,
            creator,
            RoomIn(title="Bench live", featured_product_ids=[p.id for p in products]),
            now,
        )
        services.do_go_live(db.session, room, now)
        db.session.commit()
        with app.test_request_context("/"):
            g.pop("csrf_token", None)
            session["user_id"] = creator.id
            csrf = generate_csrf()
            cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
        facts = {"room": room.public_id, "product": products[0].id, "cookie": cookie, "csrf": csrf}
        db.engine.dispose()
    return facts


# The viewers and the trigger --------------------------------------------------------------


async def measure(
    port: int, viewers: int, rounds: int, join: tuple[str, Any], trigger: Any
) -> dict[str, Any]:
    """Connect the viewers, then for each round: trigger, wait for every arrival, record times."""
    import socketio

    arrivals: list[float] = []
    expected = 0
    everyone = asyncio.Event()

    def on_pins(_payload: Any) -> None:
        arrivals.append(time.perf_counter())
        if len(arrivals) >= expected:
            everyone.set()

    clients = []

    async def connect() -> None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("live.pins", on_pins)
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
        ack = await client.call(join[0], join[1], timeout=60)
        assert ack is None or ack.get("ok", True), ack
        clients.append(client)

    started = time.perf_counter()
    for batch in range(0, viewers, 50):
        await asyncio.gather(*(connect() for _ in range(min(50, viewers - batch))))
    connected_s = time.perf_counter() - started
    last: list[float] = []
    each: list[float] = []
    for number in range(rounds):
        arrivals.clear()
        everyone.clear()
        expected = viewers
        sent = time.perf_counter()
        await trigger(number)
        await asyncio.wait_for(everyone.wait(), 60)
        delays = [moment - sent for moment in arrivals]
        last.append(max(delays))
        each.extend(delays)
        await asyncio.sleep(0.3)  # let the counters' ticks and acks settle between rounds
    await asyncio.gather(*(client.disconnect() for client in clients))
    return {"last": last, "each": each, "connected_s": connected_s}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_ours(port: int, facts: dict[str, Any], viewers: int, rounds: int) -> dict[str, Any]:
    import aiohttp

    headers = {
        "Cookie": f"session={facts['cookie']}",
        "X-CSRFToken": facts["csrf"],
        "Content-Type": "application/json",
    }
    base = f"http://127.0.0.1:{port}/api/v1/live/rooms/{facts['room']}/pins"
    async with aiohttp.ClientSession() as http:

        async def trigger(number: int) -> None:
            if number % 2 == 0:
                body = json.dumps({"product_id": facts["product"]})
                response = await http.post(base, data=body, headers=headers)
            else:
                response = await http.delete(f"{base}/{facts['product']}", headers=headers)
            assert response.status in (200, 201), (response.status, await response.text())
            await response.read()

        return await measure(port, viewers, rounds, ("live.join", {"room": facts["room"]}), trigger)


async def run_bare(port: int, payload: dict[str, Any], viewers: int, rounds: int) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as http:

        async def trigger(_number: int) -> None:
            response = await http.post(f"http://127.0.0.1:{port}/", data=json.dumps(payload))
            assert response.status == 201
            await response.read()

        return await measure(port, viewers, rounds, ("join", "room"), trigger)


def sample_payload(port: int, facts: dict[str, Any]) -> dict[str, Any]:
    """What our broadcast carries, so the reference sends the same bytes."""
    import urllib.request

    url = f"http://127.0.0.1:{port}/api/v1/live/rooms/{facts['room']}/pins"
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def report(name: str, outcome: dict[str, Any]) -> None:
    print(
        f"  {name}: last viewer p50 {pct(outcome['last'], 0.5):.0f} ms, "
        f"p99 {pct(outcome['last'], 0.99):.0f} ms; every delivery p50 "
        f"{pct(outcome['each'], 0.5):.0f} ms, p99 {pct(outcome['each'], 0.99):.0f} ms "
        f"({len(outcome['each'])} deliveries; viewers connected in {outcome['connected_s']:.1f} s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--serve-app", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_app:
        serve_app(args.database_url, args.serve_app)
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    url = args.database_url
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='pin-bench-')}/bench.sqlite3"
    print(f"pin propagation: {args.viewers} Socket.IO viewers in one room, {args.rounds} rounds")
    facts = prepare(url)
    port = free_port()
    server = start(["--serve-app", str(port), "--database-url", url], port)
    try:
        payload = sample_payload(port, facts)
        ours = asyncio.run(run_ours(port, facts, args.viewers, args.rounds))
    finally:
        server.terminate()
        server.wait(10)
    port = free_port()
    server = start(["--serve-bare", str(port)], port)
    try:
        bare = asyncio.run(run_bare(port, payload, args.viewers, args.rounds))
    finally:
        server.terminate()
        server.wait(10)
    report("ours (POST pin -> commit -> live.pins)", ours)
    report("bare python-socketio broadcast       ", bare)
    ratio = pct(ours["last"], 0.5) / max(pct(bare["last"], 0.5), 0.001)
    print(f"  ratio of last-viewer p50, ours / bare: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A 20 s Redis outage under two web processes: ours next to stock Flask-SocketIO, same run.

For each Socket.IO queue manager (python-socketio's stock `RedisManager`, then ours,
commerce/message_queue.py) it starts a redis-server of its own and two `flask serve` processes
A and B sharing it, and connects one Socket.IO viewer to each process. A viewer behaves as the
pages do (static/js/realtime.js): it keeps the room's pins and chat and the buyer's order state
from events, and on `resync` re-reads the order from the JSON API and takes the room's pushed
snapshot (`live.snapshot`), or asks the API for it when none comes.

Redis is killed. During the outage A's host pins a product and chats, and the buyer cancels an
order on A (each request's time is measured). After `--outage` seconds Redis comes back, and A's
host pins and unpins a product in a second room every 100 ms (a probe that changes nothing the
viewers keep). Measured from the moment Redis answers again:

    events flow again     the first probe event B's viewer hears
    converged             both viewers show the pin, the chat and the cancelled order
                          ("never" within --watch seconds: the events were lost for good)

    python bench/redis_outage_bench.py [--outage 20] [--watch 30] [--database-url URL]

Ends with one line of name=value figures. Exits non-zero when ours does not converge within 5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import base_env, free_port  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

PASSWORD = "bench-password-9"
TARGET_S = 5.0
PUSH_WAIT_S = 1.5  # as static/js/live-common.js
MANAGERS = ("stock", "ours")


def serve(manager: str, port: int) -> None:
    """`flask serve` with the given queue manager (this file run as a web process)."""
    if manager == "stock":
        from commerce import message_queue

        message_queue.client_manager = lambda _url, _channel: None  # Flask-SocketIO's own
    from flask.cli import main

    sys.argv = ["flask", "serve", "--port", str(port)]
    main()


def seed(database_url: str) -> dict[str, Any]:
    """Migrate, then a host (creator and merchant) with three products, a buyer with an address."""

    from app import create_app
    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.orders.models import Address

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "outage-bench"})
    with app.app_context():
        fresh_schema()
        host = User(
            email="host@bench.test", display_name="Host", bio="", is_creator=True, is_merchant=True
        )
        buyer = User(email="buyer@bench.test", display_name="Buyer", bio="")
        for user in (host, buyer):
            user.set_password(PASSWORD)
        db.session.add_all([host, buyer])
        db.session.flush()
        products = [
            Product(merchant_id=host.id, title=t, price_minor=1000, currency="CNY", stock=100)
            for t in ("Jasmine tea", "Oolong tea", "Probe cup")
        ]
        address = Address(
            user_id=buyer.id,
            name="Bea",
            phone="+86 138 0000 0000",
            line1="1 Tea Street",
            city="Hangzhou",
            postal_code="310000",
            country="CN",
        )
        db.session.add_all([*products, address])
        db.session.commit()
        engine = db.engine
        result = {"products": [p.id for p in products], "address_id": address.id}
    engine.dispose()
    return result


class Person:
    def __init__(self, url: str, email: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.token = self.http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        self.token = self.http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = self.http.request(
            method,
            self.url + path,
            json=body,
            headers={"X-CSRFToken": self.token, **headers},
            timeout=60,
        )
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def timed(self, method: str, path: str, body: Any = None) -> float:
        started = time.monotonic()
        self.call(method, path, body)
        return time.monotonic() - started


class Viewer:
    """What an open page keeps from events, re-read from the API on `resync`."""

    def __init__(self, person: Person, room: str, probe_room: str, order_id: str) -> None:
        self.person, self.room, self.order_id = person, room, order_id
        self.lock = threading.Lock()
        self.pins: set[int] = set()
        self.chat: set[str] = set()
        self.order_state = ""
        self.probes: list[float] = []  # when probe-room pin events arrived (monotonic)
        self.resyncs = 0
        self.client = socketio.Client(http_session=person.http, reconnection=True)
        self.client.on("live.pins", self.on_pins)
        self.client.on("live.chat", self.on_chat)
        self.client.on("order.updated", self.on_order)
        self.client.on("resync", self.on_resync)
        self.client.on("live.snapshot", self.on_snapshot)
        self.pushes = 0
        self.client.connect(person.url, transports=["polling"], wait_timeout=10)
        for joined in (room, probe_room):
            ack = self.client.call("live.join", {"room": joined}, timeout=10)
            assert ack["ok"], ack
            if joined == room:
                self.apply_snapshot(ack["snapshot"])

    def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.pins = {pin["product"]["id"] for pin in snapshot["pins"]["pins"]}
            self.chat |= {message["text"] for message in snapshot["chat"]}

    def on_pins(self, payload: dict[str, Any]) -> None:
        if payload["room"] == self.room:
            with self.lock:
                self.pins = {pin["product"]["id"] for pin in payload["pins"]}
        else:
            self.probes.append(time.monotonic())

    def on_chat(self, payload: dict[str, Any]) -> None:
        if payload["room"] == self.room:
            with self.lock:
                self.chat |= {message["text"] for message in payload["messages"]}

    def on_order(self, payload: dict[str, Any]) -> None:
        if payload["id"] == self.order_id:
            self.order_state = payload["state"]

    def on_snapshot(self, snapshot: dict[str, Any]) -> None:
        """The room's snapshot pushed after a resync (commerce/live/resync.py)."""
        if snapshot["room"]["id"] == self.room:
            self.pushes += 1
            self.apply_snapshot(snapshot)

    def on_resync(self, _payload: Any = None) -> None:
        # Not on the client's own thread: the reads below take a round trip each.
        threading.Thread(target=self.resync, daemon=True).start()

    def resync(self) -> None:
        """As the pages: the order from the API; the room's push, or the API after 1.5 s."""
        self.resyncs += 1
        http = self.person.http
        url = self.person.url
        pushes = self.pushes
        order = http.get(f"{url}/api/v1/orders/{self.order_id}", timeout=10).json()
        self.order_state = order["state"]
        if wait_until(lambda: self.pushes > pushes, PUSH_WAIT_S) is None:
            path = f"/api/v1/live/rooms/{self.room}/snapshot"
            self.apply_snapshot(http.get(url + path, timeout=10).json())

    def shows(self, product_id: int, text: str) -> bool:
        with self.lock:
            return product_id in self.pins and text in self.chat and self.order_state == "cancelled"


def wait_until(condition, seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def run(manager: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    database_url = args.database_url or f"sqlite:///{folder / f'{manager}.db'}"
    ids = seed(database_url)
    redis_server = RedisServer().start()
    env = {
        **base_env(database_url, folder),
        "SECRET_KEY": "outage-bench",
        "SOCKETIO_MESSAGE_QUEUE": redis_server.url,
        "JOBS_MODE": "worker",
    }
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        log = open(folder / f"{manager}-{name}.log", "w")  # noqa: SIM115  (closed with the process)
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, __file__, "--serve", manager, "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    viewers: list[Viewer] = []
    probing = threading.Event()
    try:
        for url in urls:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{url}/api/v1/auth/csrf", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{url} did not start; see {folder}") from None
                    time.sleep(0.1)
        a, b = urls
        host = Person(a, "host@bench.test")
        buyer = Person(a, "buyer@bench.test")
        tea, oolong, probe = ids["products"]
        room = host.call(
            "POST", "/api/v1/live/rooms", {"title": "Tea", "featured_product_ids": [tea, oolong]}
        )["id"]
        probe_room = host.call(
            "POST", "/api/v1/live/rooms", {"title": "Probe", "featured_product_ids": [probe]}
        )["id"]
        for started in (room, probe_room):
            host.call("POST", f"/api/v1/live/rooms/{started}/start")
        order = {"items": [{"product_id": tea, "quantity": 1}], "address_id": ids["address_id"]}
        order_id = buyer.call(
            "POST", "/api/v1/orders", order, **{"Idempotency-Key": uuid.uuid4().hex}
        )["orders"][0]["id"]
        viewers = [
            Viewer(Person(url, "buyer@bench.test"), room, probe_room, order_id) for url in (a, b)
        ]
        # Events cross before the outage.
        host.call("POST", f"/api/v1/live/rooms/{room}/pins", {"product_id": tea})
        if wait_until(lambda: all(tea in v.pins for v in viewers), 10) is None:
            raise SystemExit(f"{manager}: events do not cross before the outage; see {folder}")

        redis_server.kill()
        killed = time.monotonic()
        text = "Brewing the oolong now"
        requests_s = [
            host.timed("POST", f"/api/v1/live/rooms/{room}/pins", {"product_id": oolong}),
            host.timed("POST", f"/api/v1/live/rooms/{room}/chat", {"text": text}),
            buyer.timed("POST", f"/api/v1/orders/{order_id}/cancel"),
        ]
        time.sleep(max(0.0, args.outage - sum(requests_s)))
        redis_server.start()
        back = time.monotonic()

        def probe_loop() -> None:
            pinned = False
            while not probing.is_set():
                path = f"/api/v1/live/rooms/{probe_room}/pins"
                try:
                    if pinned:
                        host.call("DELETE", f"{path}/{probe}")
                    else:
                        host.call("POST", path, {"product_id": probe})
                    pinned = not pinned
                except SystemExit:
                    pass
                time.sleep(0.1)

        threading.Thread(target=probe_loop, daemon=True).start()
        heard = wait_until(lambda: any(t > back for t in viewers[1].probes), args.watch)
        flowed = None if heard is None else min(t for t in viewers[1].probes if t > back) - back
        left = args.watch - (time.monotonic() - back)
        shown = wait_until(lambda: all(v.shows(oolong, text) for v in viewers), left)
        converged = None if shown is None else time.monotonic() - back
        return {
            "outage": back - killed,
            "flowed": flowed,
            "converged": converged,
            "request_max": max(requests_s),
            "resyncs": sum(v.resyncs for v in viewers),
            "pushes": sum(v.pushes for v in viewers),
        }
    finally:
        probing.set()
        for viewer in viewers:
            viewer.client.disconnect()
        for proc, _log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            log.close()
        redis_server.kill()


def figure(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"


def shown(value: str) -> str:
    return value if value == "never" else f"{value} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=20.0)
    parser.add_argument(
        "--watch", type=float, default=30.0, help="seconds to wait after Redis returns"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--serve", choices=MANAGERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="outage-bench-") as tmp:
        for manager in MANAGERS:
            folder = Path(tmp) / manager
            folder.mkdir()
            results[manager] = run(manager, args, folder)
    stock, ours = results["stock"], results["ours"]
    outages = f"{ours['outage']:.1f} s (stock: {stock['outage']:.1f} s)"
    print(f"Redis outage of {outages} under two web processes; from Redis answering again:")
    rows = [
        ("events flow again (B hears A)", figure(ours["flowed"]), figure(stock["flowed"]), ""),
        ("both viewers converged", figure(ours["converged"]), figure(stock["converged"]), "< 5"),
        (
            "slowest request during outage",
            f"{ours['request_max']:.2f}",
            f"{stock['request_max']:.2f}",
            "",
        ),
    ]
    print(f"  {'':32} {'ours':>8} {'stock':>8}  target")
    for name, mine, theirs, target in rows:
        print(f"  {name:32} {shown(mine):>8} {shown(theirs):>8}  {target}")
    print(
        f"events_flow_s={figure(ours['flowed'])} events_flow_stock_s={figure(stock['flowed'])} "
        f"converged_s={figure(ours['converged'])} converged_stock_s={figure(stock['converged'])} "
        f"request_during_outage_s={ours['request_max']:.2f} "
        f"request_during_outage_stock_s={stock['request_max']:.2f} "
        f"snapshots_pushed={ours['pushes']}"
    )
    return 0 if ours["converged"] is not None and ours["converged"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

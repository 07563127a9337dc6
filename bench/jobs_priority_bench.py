"""A payment confirmed while two transcodes run, in the served app, next to idle workers.

Starts the app as `make run` does (`flask serve`, jobs in the web process) or as the README's
scale-out (`--setup scale-out`: web with JOBS_MODE=worker, `flask worker --queues
payments,default`, two `flask worker --queues media`), uploads two 60 s 1080p clips over HTTP,
and once both transcodes run, pays orders with the sandbox card through the pay page: the time
from the card form's POST to the order reading `paid` (the sandbox's webhook is a job on the
payments queue that POSTs the signed event back to the app). Prints, each the median of --payments:

    payment confirmed, workers idle (reference)
    payment confirmed, 2 transcodes running            target < 2 s
    payment confirmed, one worker for every queue       (how main ran jobs: FIFO behind transcodes)

    python bench/jobs_priority_bench.py [--setup embedded|scale-out] [--payments 5]
        [--database-url URL]  (default: a fresh SQLite file; a PostgreSQL database is emptied)
        [--backend database|procrastinate]  (procrastinate: PostgreSQL, BENCH_DATABASE_URL;
        always the scale-out set-up, `flask worker` processes running Procrastinate workers)

Exits non-zero when the second figure is 2 s or more.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.transcode_bench import generate_bench_clip  # noqa: E402
from tests.processes import free_port  # noqa: E402

PASSWORD = "bench-password-9"
TARGET_S = 2.0


class Deployment:
    """The app's own processes on a temporary database and folders."""

    def __init__(self, database_url: str, folder: Path, backend: str = "database") -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "JOBS_BACKEND": backend,
            "FLASK_APP": "app",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "jobs-bench-secret",
            "LIVE_RTMP_PORT": "0",
            "LIVE_ROOT": str(folder / "live"),
            "STORAGE_LOCAL_ROOT": str(folder / "storage"),
            "UPLOAD_TMP_DIR": str(folder / "uploads"),
            "WORK_DIR": str(folder / "work"),
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def flask(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def start(self, setup: str) -> str:
        port = free_port()
        if setup == "embedded":
            self.flask("serve", "--port", str(port))
        elif setup == "scale-out":
            self.flask("serve", "--port", str(port), JOBS_MODE="worker")
            self.flask("worker", "--queues", "payments,default", JOBS_MODE="worker")
            for _ in range(2):
                self.flask("worker", "--queues", "media", JOBS_MODE="worker")
        else:  # "single": one worker runs every queue, one job at a time (main's runner)
            self.flask("serve", "--port", str(port), JOBS_MODE="worker")
            self.flask("worker", JOBS_MODE="worker")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/api/v1/auth/csrf", timeout=1).ok:
                    return url
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit(f"the app did not start; see {self.folder}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def seed(database_url: str) -> dict[str, Any]:
    """Migrate, then a creator, a merchant with a product, and a buyer with an address."""

    from app import create_app
    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.orders.models import Address

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "jobs-bench"})
    with app.app_context():
        fresh_schema()
        people = {}
        for key, flags in {
            "creator": {"is_creator": True},
            "merchant": {"is_merchant": True},
            "buyer": {},
        }.items():
            user = User(email=f"{key}@bench.test", display_name=key, bio="", **flags)
            user.set_password(PASSWORD)
            db.session.add(user)
            people[key] = user
        db.session.flush()
        product = Product(
            merchant_id=people["merchant"].id,
            title="Tea",
            price_minor=1000,
            currency="CNY",
            stock=1000,
        )
        address = Address(
            user_id=people["buyer"].id,
            name="Bea",
            phone="+86 138 0000 0000",
            line1="1 Tea Street",
            city="Hangzhou",
            postal_code="310000",
            country="CN",
        )
        db.session.add_all([product, address])
        db.session.commit()
        return {
            "creator": people["creator"].email,
            "buyer": people["buyer"].email,
            "product_id": product.id,
            "address_id": address.id,
        }


# The transcodes' states, as our runner names them, from either backend's table.
STATES_SQL = {
    "database": "SELECT state FROM jobs WHERE kind = 'video.transcode' ORDER BY id",
    "procrastinate": "SELECT CASE status WHEN 'doing' THEN 'running' WHEN 'todo' THEN 'queued'"
    " ELSE status::text END FROM procrastinate_jobs WHERE task_name = 'video.transcode'"
    " ORDER BY id",
}


def transcode_states(database_url: str, backend: str = "database") -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(STATES_SQL[backend]))]
    finally:
        engine.dispose()


class Person:
    def __init__(self, url: str, email: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        token = self.http.get(f"{self.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        response = self.http.request(
            method,
            self.url + path,
            json=body,
            headers={"X-CSRFToken": token, **headers},
            timeout=60,
        )
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()


def upload(creator: Person, clip: Path, chunk: int = 4 << 20) -> None:
    data = clip.read_bytes()
    upload_id = creator.call("POST", "/api/v1/uploads", {"filename": clip.name, "size": len(data)})[
        "id"
    ]
    token = creator.http.get(f"{creator.url}/api/v1/auth/csrf").json()["csrf_token"]
    for offset in range(0, len(data), chunk):
        response = creator.http.put(
            f"{creator.url}/api/v1/uploads/{upload_id}",
            data=data[offset : offset + chunk],
            headers={
                "Upload-Offset": str(offset),
                "Content-Type": "application/octet-stream",
                "X-CSRFToken": token,
            },
            timeout=60,
        )
        response.raise_for_status()
    creator.call("POST", f"/api/v1/uploads/{upload_id}/complete")


def time_payment(buyer: Person, seeded: dict[str, Any], timeout_s: float = 180) -> float:
    """Order, open the pay page, then time the card POST until the order reads `paid`."""
    items = [{"product_id": seeded["product_id"], "quantity": 1}]
    placed = buyer.call(
        "POST",
        "/api/v1/orders",
        {"items": items, "address_id": seeded["address_id"]},
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    order_id = placed["orders"][0]["id"]
    payment = buyer.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {}, **{"Idempotency-Key": uuid.uuid4().hex}
    )
    pay_url = buyer.url + payment["pay_url"]
    match = re.search(r'name="csrf_token" value="([^"]+)"', buyer.http.get(pay_url).text)
    assert match is not None
    started = time.perf_counter()
    buyer.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": match[1]})
    deadline = started + timeout_s
    while time.perf_counter() < deadline:
        if buyer.call("GET", f"/api/v1/orders/{order_id}")["state"] == "paid":
            return time.perf_counter() - started
        time.sleep(0.02)
    return float("inf")


def measure(
    setup: str, database_url: str, clip: Path, payments: int, backend: str = "database"
) -> tuple[float, float]:
    """(median idle, median with two transcodes running) for one set-up."""
    with tempfile.TemporaryDirectory(prefix="jobs-bench-") as tmp:
        folder = Path(tmp)
        url_db = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        seeded = seed(url_db)
        deployment = Deployment(url_db, folder, backend)
        try:
            url = deployment.start(setup)
            buyer = Person(url, seeded["buyer"])
            idle = [time_payment(buyer, seeded) for _ in range(payments)]
            creator = Person(url, seeded["creator"])
            for _ in range(2):
                upload(creator, clip)
            deadline = time.monotonic() + 120
            while transcode_states(url_db, backend).count("running") < (
                1 if setup == "single" else 2
            ):
                if time.monotonic() > deadline:
                    raise SystemExit(f"transcodes did not start; see {folder}")
                time.sleep(0.2)
            busy = []
            for _ in range(1 if setup == "single" else payments):
                busy.append(time_payment(buyer, seeded))
                if "running" not in transcode_states(url_db, backend):
                    print(f"  ({setup}: transcodes ended after {len(busy)} payments)")
                    break
            return statistics.median(idle), statistics.median(busy)
        finally:
            deployment.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=["embedded", "scale-out"], default="embedded")
    parser.add_argument("--payments", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--skip-single", action="store_true", help="skip main's one-queue run")
    parser.add_argument("--backend", choices=["database", "procrastinate"], default="database")
    args = parser.parse_args()
    if args.backend == "procrastinate":
        if not args.database_url.startswith("postgresql"):
            parser.error(
                "--backend procrastinate needs PostgreSQL: BENCH_DATABASE_URL or --database-url"
            )
        args.setup, args.skip_single = "scale-out", True  # its workers are processes of their own
    clip = Path(generate_bench_clip())
    print(
        f"clip: {clip.name}, {clip.stat().st_size / 1e6:.1f} MB; "
        f"set-up: {args.setup}; jobs backend: {args.backend}"
    )
    idle, busy = measure(args.setup, args.database_url, clip, args.payments, args.backend)
    print(f"payment confirmed, workers idle (reference):    {idle:6.2f} s")
    print(f"payment confirmed, 2 transcodes running:        {busy:6.2f} s   target < {TARGET_S} s")
    summary = f"backend={args.backend} setup={args.setup} idle_s={idle:.2f} busy_s={busy:.2f}"
    if not args.skip_single:
        _idle, single = measure("single", args.database_url, clip, 1)
        print(f"payment confirmed, one worker for every queue:  {single:6.2f} s   (main's runner)")
        summary += f" single_queue_s={single:.2f}"
    print(f"{summary} target_s={TARGET_S}")
    return 0 if busy < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

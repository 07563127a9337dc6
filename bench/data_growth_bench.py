"""Data growth: p95 of five pages at 10k orders, then at 1M in the same PostgreSQL database.

The 10k figure is the reference (target: p95 at 1M <= 1.5x p95 at 10k). The database at
BENCH_DATABASE_URL is emptied, migrated with `flask setup`, seeded set-based (bench/growth_seed.py),
ANALYZEd, and measured through a served app (`flask serve`, a logged-in requests.Session): the
heavy creator's dashboard and earnings, the heavy merchant's order list, a credit explanation
that touches the heavy creator's ledger, and the feed. The server is restarted after the growth,
so the first request of each page pays any cold start; that first request is printed too.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
import growth_seed as seed
from schema import ensure_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/growth_bench"
TARGET = 1.5


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def reset_and_migrate(url: str, env: dict[str, str]) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("DROP SCHEMA IF EXISTS procrastinate CASCADE")
    subprocess.run(
        [sys.executable, "-m", "flask", "setup"], cwd=ROOT, env=env, check=True, capture_output=True
    )


def grow(
    url: str, orders: tuple[int, int], videos: tuple[int, int], shares: tuple[int, int]
) -> float:
    """Add orders, videos and shares with ids in the given ranges; returns the seconds taken."""
    started = time.monotonic()
    with psycopg.connect(libpq(url), autocommit=False) as conn, conn.cursor() as cur:
        if orders[0] == 1:
            seed.seed_people(cur, generate_password_hash(seed.PASSWORD))
        seed.seed_videos(cur, *videos)
        seed.seed_shares(cur, *shares, videos=videos[1])
        # In chunks: one huge INSERT would need the whole temp table in memory at once.
        step = 100_000
        for first in range(orders[0], orders[1] + 1, step):
            last = min(first + step - 1, orders[1])
            seed.seed_orders(cur, first, last, videos=videos[1], shares=shares[1])
            conn.commit()
            print(f"    orders up to {last:,} ({time.monotonic() - started:.0f} s)", flush=True)
        seed.seed_payouts(cur)
        seed.fix_sequences(cur)
        conn.commit()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(libpq(url)) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("orders", "videos", "commissions", "ledger_entries")
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/auth/csrf", timeout=2).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"the app did not start: see {log}")


def session_for(base: str, email: str) -> requests.Session:
    s = requests.Session()
    token = s.get(f"{base}/api/v1/auth/csrf").json()["csrf_token"]
    s.headers["X-CSRFToken"] = token
    reply = s.post(f"{base}/api/v1/auth/login", json={"email": email, "password": seed.PASSWORD})
    reply.raise_for_status()
    return s


def explained_order(url: str) -> str:
    """The newest order credited to the heavy creator that also paid a sharer."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT o.public_id FROM orders o JOIN order_lines l ON l.order_id = o.id "
            "WHERE l.creator_id = %s AND l.click_id IS NOT NULL ORDER BY o.id DESC LIMIT 1",
            (seed.HEAVY_CREATOR,),
        ).fetchone()
    assert row is not None
    return row[0]


def pages(url: str) -> dict[str, tuple[str, str]]:
    """name -> (who, path)."""
    creator = f"u{seed.HEAVY_CREATOR}@bench.example"
    merchant = f"u{seed.HEAVY_MERCHANT}@bench.example"
    return {
        "feed": (creator, "/"),
        "creator_dashboard": (creator, "/studio/earnings"),
        "earnings": (creator, "/earnings"),
        "merchant_orders": (merchant, "/merchant/orders"),
        "credit_explanation": (creator, f"/orders/{explained_order(url)}/credits"),
    }


def measure(
    base: str, targets: dict[str, tuple[str, str]], n: int, warm: int
) -> dict[str, dict[str, float]]:
    sessions: dict[str, requests.Session] = {}
    result = {}
    for name, (who, path) in targets.items():
        s = sessions.setdefault(who, session_for(base, who))
        times = []
        for i in range(warm + n):
            started = time.perf_counter()
            reply = s.get(base + path)
            elapsed = (time.perf_counter() - started) * 1000
            if reply.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {reply.status_code}")
            if i == 0:
                first = elapsed
            if i >= warm:
                times.append(elapsed)
        times.sort()
        result[name] = {
            "first": first,
            "p50": statistics.median(times),
            "p95": times[max(0, round(0.95 * len(times)) - 1)],
        }
        print(
            f"    {name:<19} p50 {result[name]['p50']:7.1f} ms  p95 {result[name]['p95']:7.1f} ms"
            f"  (first request {first:.0f} ms)",
            flush=True,
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    )
    parser.add_argument("--small", type=int, default=10_000, help="orders at the reference size")
    parser.add_argument("--big", type=int, default=1_000_000, help="orders at the grown size")
    parser.add_argument("--requests", type=int, default=50, help="measured requests per page")
    parser.add_argument("--warm", type=int, default=5, help="requests before measuring")
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgresql"):
        raise SystemExit("BENCH_DATABASE_URL must be a PostgreSQL database (it is emptied)")
    ensure_database(url)
    folder = Path(tempfile.mkdtemp(prefix="growth-bench-"))
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "DATABASE_URL": url,
        "SECRET_KEY": "growth-bench",
        "DEPLOYMENT_NAME": "growth-bench",
        "JOBS_MODE": "worker",  # no periodic task may change the data between phases
        "LIVE_RTMP_PORT": "0",
        "LIVE_ROOT": str(folder / "live"),
        "STORAGE_LOCAL_ROOT": str(folder / "storage"),
        "UPLOAD_TMP_DIR": str(folder / "uploads"),
        "WORK_DIR": str(folder / "work"),
    }
    reset_and_migrate(url, env)
    ratio_videos = 10  # orders per video, as 1M orders : 100k videos
    ratio_shares = 50
    figures: dict[str, dict[str, dict[str, float]]] = {}
    previous = 0
    for label, size in (("10k", args.small), ("1M", args.big)):
        print(f"  seeding up to {size:,} orders ...", flush=True)
        took = grow(
            url,
            (previous + 1, size),
            (previous // ratio_videos + 1, size // ratio_videos),
            (previous // ratio_shares + 1, size // ratio_shares),
        )
        previous = size
        print(f"  seeded in {took:.0f} s: {counts(url)}", flush=True)
        # The seed writes ledger entries in bulk, past the appends that keep the projection.
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "flask", "ledger", "rebuild"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        print(f"  projection rebuilt in {time.monotonic() - started:.0f} s", flush=True)
        proc, base = start_server(env, folder / f"serve-{label}.log")
        try:
            figures[label] = measure(base, pages(url), args.requests, args.warm)
        finally:
            proc.terminate()
            proc.wait(20)
    print(
        f"\n  {'page':<19} {'p95 10k (ref)':>14} {'p95 1M':>10} {'ratio':>7}  target <= {TARGET}x"
    )
    summary = []
    worst = 0.0
    for name in figures["10k"]:
        small, big = figures["10k"][name]["p95"], figures["1M"][name]["p95"]
        ratio = big / small
        worst = max(worst, ratio)
        verdict = "OK" if ratio <= TARGET else "OVER"
        print(f"  {name:<19} {small:11.1f} ms {big:7.1f} ms {ratio:6.2f}x  {verdict}")
        summary.append(
            f"{name}_p95_10k_ms={small:.1f} {name}_p95_1m_ms={big:.1f} {name}_ratio={ratio:.2f}"
        )
    print(" ".join(summary) + f" worst_ratio={worst:.2f}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

"""Go-live fan-out: a creator with 100,000 followers (1,000 of them online over Socket.IO) starts a
room through the app; how long until every follower's notification is stored, and until the last
online follower got its unread-count event?

Our path: the app served as `flask serve` serves it (Flask-SocketIO threading mode, its in-process
job worker beside it) in a subprocess; the creator POSTs /api/v1/live/rooms/<id>/start, which
commits the room and queues the fan-out job; the job inserts 1,000 recipients per step
(INSERT ... SELECT, unique per recipient and event) and emits each step's unread counts after its
commit. The reference, same run, same database: a bare `INSERT ... SELECT` of the 100,000
follower rows into a table of the same shape and indexes, in one statement.

    python bench/notify_bench.py [--followers 100000] [--online 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECRET = "notify-bench-secret"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/notify_bench"


def bench_app(url: str) -> Any:
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "SERVER_NAME": None})


def serve_app(url: str, port: int) -> None:
    import logging

    from commerce.extensions import socketio
    from commerce.jobs.runner import in_process_workers

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = bench_app(url)
    for worker in in_process_workers(app, poll_seconds=1.0):
        worker.start()
    print("ready", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, log_output=False)


def prepare(url: str, followers: int, online: int) -> dict[str, Any]:
    """A migrated, empty database; a creator with `followers` followers and a scheduled room;
    signed session cookies for the creator and `online` followers spread over them."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import text

    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.extensions import db
    from commerce.live.models import LiveRoom

    app = bench_app(url)
    with app.app_context():
        fresh_schema()
        creator = User(
            email="creator@bench", display_name="Mia", bio="", is_creator=True, password_hash="!"
        )
        db.session.add(creator)
        db.session.flush()
        started = time.perf_counter()
        db.session.execute(
            text(
                "INSERT INTO users (email, password_hash, display_name, bio, is_creator,"
                " is_merchant, is_admin, created_at, session_version)"
                " SELECT 'fan' || g || '@bench', '!', 'Fan ' || g, '', false, false, false,"
                " now(), 0 FROM generate_series(1, :n) AS g"
            ),
            {"n": followers},
        )
        db.session.execute(
            text(
                "INSERT INTO follows (follower_id, followee_id, created_at)"
                " SELECT id, :c, now() FROM users WHERE id <> :c"
            ),
            {"c": creator.id},
        )
        room = LiveRoom(public_id="benchroom001", creator_id=creator.id, title="Bench live")
        db.session.add(room)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        seeded_s = time.perf_counter() - started
        # Spread over the whole id range (the fan-out goes in id order): the last online
        # follower is in the last step, not the first.
        every = max(1, followers // online)
        fan_ids = list(
            db.session.scalars(
                text("SELECT id FROM users WHERE id <> :c ORDER BY id DESC"), {"c": creator.id}
            )
        )[::every][:online]

        def cookie_for(user_id: int) -> tuple[str, str]:
            with app.test_request_context("/"):
                g.pop("csrf_token", None)
                session["user_id"], session["session_version"] = user_id, 0
                csrf = generate_csrf()
                signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
                return signer.dumps(dict(session)), csrf

        creator_cookie, csrf = cookie_for(creator.id)
        fans = [cookie_for(uid)[0] for uid in fan_ids]
        facts = {
            "creator": creator.id,
            "room": room.public_id,
            "cookie": creator_cookie,
            "csrf": csrf,
            "fans": fans,
            "seeded_s": seeded_s,
        }
        db.engine.dispose()
    return facts


def bare_insert_select(url: str, creator_id: int) -> tuple[float, int]:
    """The reference: one INSERT ... SELECT of every follower into a table shaped like ours."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bare_notifications (id serial PRIMARY KEY, recipient_id int NOT NULL,"
                " event_id int NOT NULL, created_at timestamp NOT NULL, read_at timestamp)"
            )
        )
        conn.execute(text("CREATE UNIQUE INDEX ON bare_notifications (recipient_id, event_id)"))
        conn.execute(text("CREATE INDEX ON bare_notifications (recipient_id, created_at, id)"))
        conn.execute(text("CREATE INDEX ON bare_notifications (recipient_id, read_at)"))
    with engine.begin() as conn:
        started = time.perf_counter()
        result = conn.execute(
            text(
                "INSERT INTO bare_notifications (recipient_id, event_id, created_at)"
                " SELECT follower_id, 1, now() FROM follows WHERE followee_id = :c"
            ),
            {"c": creator_id},
        )
        rows = result.rowcount
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bare_notifications"))
    engine.dispose()
    return elapsed, rows


def stored(engine: Any) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM notifications")) or 0)


async def run(url: str, port: int, facts: dict[str, Any], followers: int) -> dict[str, float]:
    import aiohttp
    import socketio
    from sqlalchemy import create_engine

    arrivals: list[float] = []
    everyone = asyncio.Event()
    online = len(facts["fans"])

    def on_unread(payload: Any) -> None:
        if payload.get("latest"):
            arrivals.append(time.perf_counter())
            if len(arrivals) >= online:
                everyone.set()

    clients = []

    async def connect(cookie: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("notifications.unread", on_unread)
        await client.connect(
            f"http://127.0.0.1:{port}",
            headers={"Cookie": f"session={cookie}"},
            transports=["websocket"],
        )
        clients.append(client)

    started = time.perf_counter()
    for batch in range(0, online, 50):
        await asyncio.gather(*(connect(c) for c in facts["fans"][batch : batch + 50]))
    connected_s = time.perf_counter() - started
    await asyncio.sleep(1)

    engine = create_engine(url)
    async with aiohttp.ClientSession() as http:
        sent = time.perf_counter()
        async with http.post(
            f"http://127.0.0.1:{port}/api/v1/live/rooms/{facts['room']}/start",
            headers={"Cookie": f"session={facts['cookie']}", "X-CSRFToken": facts["csrf"]},
        ) as response:
            assert response.status == 200, await response.text()
            request_s = time.perf_counter() - sent
    all_stored_s = None
    deadline = sent + 300
    while time.perf_counter() < deadline:
        if all_stored_s is None and stored(engine) >= followers:
            all_stored_s = time.perf_counter() - sent
        if all_stored_s is not None and everyone.is_set():
            break
        await asyncio.sleep(0.1)
    engine.dispose()
    last_online_s = (max(arrivals) - sent) if len(arrivals) >= online else float("nan")
    await asyncio.gather(*(client.disconnect() for client in clients))
    return {
        "connected_s": connected_s,
        "request_s": request_s,
        "all_stored_s": all_stored_s if all_stored_s is not None else float("nan"),
        "last_online_s": last_online_s,
        "online_received": float(len(arrivals)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--online", type=int, default=1_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    )
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_app(args.serve[0], int(args.serve[1]))
        return 0
    url = args.database_url
    if not url.startswith("postgresql"):
        print("notify bench needs PostgreSQL (BENCH_DATABASE_URL=postgresql+psycopg://...)")
        return 2
    from bench.schema import ensure_database

    ensure_database(url)
    facts = prepare(url, args.followers, args.online)
    print(f"seeded {args.followers:,} followers in {facts['seeded_s']:.1f} s")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        ours = asyncio.run(run(url, port, facts, args.followers))
    finally:
        proc.terminate()
        proc.wait(20)
    bare_s, bare_rows = bare_insert_select(url, facts["creator"])
    print(f"{args.online:,} followers online (connected in {ours['connected_s']:.1f} s)")
    print(f"go-live request answered in        {ours['request_s'] * 1000:8.1f} ms")
    print(f"all {args.followers:,} notifications stored {ours['all_stored_s']:8.2f} s")
    print(
        f"last online follower's event       {ours['last_online_s']:8.2f} s"
        f"  ({int(ours['online_received'])} of {args.online} received)"
    )
    print(f"reference: bare INSERT ... SELECT of {bare_rows:,} rows {bare_s:8.2f} s")
    print(
        f"summary: followers={args.followers} online={args.online}"
        f" request_ms={ours['request_s'] * 1000:.1f} all_stored_s={ours['all_stored_s']:.2f}"
        f" last_online_s={ours['last_online_s']:.2f} bare_insert_select_s={bare_s:.2f}"
        f" target_s=60 within_target={ours['all_stored_s'] <= 60 and ours['last_online_s'] <= 60}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Invite rewards settled by the app's job, two processes racing, next to bare SQL in the same run.

Prepares `--sharers` x `--per-sharer` invitations whose first order was delivered past the return
window (each invitee on its own device, address and network, so every one passes the person
checks), and as many again not yet delivered for the reference. Then:

- the app: two processes run the reward job's body (`settle.due_candidates` + `do_settle`, one
  commit per invitation) over the same invitations at the same instant, as two `flask worker`s
  whose turns overlap would; each invitation is checked (device, phone, address, network against
  the sharer and the sharer's other invitees), moved, capped, recorded and its coupon granted;
- the reference: two threads run the bare statements of a reward (the conditional UPDATE of the
  invitation, the reward row, the template's counter, the coupon row) over the second half.

It checks that each invitation was rewarded exactly once, and prints rewards per second of each.

    python bench/invite_reward_bench.py [--database-url URL] [--sharers 20] [--per-sharer 25]

The URL defaults to $BENCH_DATABASE_URL, else a fresh SQLite file. The database is emptied.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.flash_sale_bench import bench_app  # noqa: E402

HOLD_DAYS = 7


def prepare(url: str, sharers: int, per_sharer: int) -> int:
    """Both halves of invitations; returns the reward template's id."""
    from bench.schema import fresh_schema
    from commerce.accounts.models import User
    from commerce.attribution.models import Share
    from commerce.catalog.models import Product
    from commerce.extensions import db
    from commerce.invites import programme
    from commerce.invites.models import Invitation
    from commerce.invites.rules import address_key
    from commerce.orders.models import Order
    from commerce.timeutil import utcnow

    app = bench_app(url, 4)
    with app.app_context():
        fresh_schema()
        now = utcnow()
        programme = programme.do_ensure_programme(db.session, programme.Amounts(), now)
        merchant = User(email="shop@bench", display_name="Shop", bio="", password_hash="!")
        db.session.add(merchant)
        db.session.flush()
        product = Product(merchant_id=merchant.id, title="Tea", price_minor=5000, currency="CNY")
        db.session.add(product)
        db.session.flush()
        n = 0
        for s in range(sharers):
            sharer = User(email=f"s{s}@bench", display_name=f"S{s}", bio="", password_hash="!")
            db.session.add(sharer)
            db.session.flush()
            share = Share(sharer_id=sharer.id, target_kind="invite", target_key="join")
            db.session.add(share)
            db.session.flush()
            for _ in range(per_sharer * 2):
                n += 1
                delivered = n % 2 == 0  # even: the app's half; odd: the reference's
                invitee = User(email=f"i{n}@bench", display_name=f"I{n}", bio="", password_hash="!")
                db.session.add(invitee)
                db.session.flush()
                address = {"line1": f"{n} Bench Road", "city": "Shanghai", "phone": f"1{n:010d}"}
                order = Order(
                    public_id=f"bench{n}",
                    buyer_id=invitee.id,
                    merchant_id=merchant.id,
                    state="delivered" if delivered else "paid",
                    currency="CNY",
                    subtotal_minor=5000,
                    total_minor=5000,
                    address=address,
                    device_id=f"dev{n}",
                    paid_at=now - timedelta(days=HOLD_DAYS + 2),
                    delivered_at=now - timedelta(days=HOLD_DAYS + 1) if delivered else None,
                )
                db.session.add(order)
                db.session.flush()
                db.session.add(
                    Invitation(
                        invitee_id=invitee.id,
                        sharer_id=sharer.id,
                        share_id=share.id,
                        state="first_paid",
                        device_id=f"dev{n}",
                        signup_ip_hash=f"net{n}",
                        order_by_at=now + timedelta(days=30),
                        first_order_id=order.id,
                        first_paid_at=order.paid_at,
                        order_device_id=f"dev{n}",
                        address_key=address_key(address),
                        created_at=now - timedelta(days=HOLD_DAYS + 3),
                    )
                )
            db.session.commit()
        template_id = programme.reward_template_id
    return int(template_id or 0)


JOB = """
import os, sys, time
sys.path.insert(0, ".")
from bench.flash_sale_bench import bench_app
from commerce.extensions import db
from commerce.invites import settle
from commerce.invites.models import Invitation
from commerce.invites.rules import settings_from_config
from commerce.timeutil import utcnow
url, folder, me = sys.argv[1], sys.argv[2], sys.argv[3]
app = bench_app(url, 2)
app.config.update(INVITE_SHARER_DAILY_CAP=0, INVITE_SHARER_MONTHLY_CAP=0)
with app.app_context():
    settings = settings_from_config(app.config)
    open(f"{folder}/ready-{me}", "w").close()
    while not os.path.exists(f"{folder}/go"):
        time.sleep(0.005)
    outcomes = {}
    while True:  # the job's turn, repeated until nothing is due (a batch is 100)
        ids = settle.due_candidates(db.session, utcnow(), settings)
        if not ids:
            break
        for invitation_id in ids:
            invitation = db.session.get(Invitation, invitation_id)
            outcome = settle.do_settle(db.session, invitation, utcnow(), settings)
            db.session.commit()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print("outcomes", outcomes, flush=True)
"""


def run_app(url: str, folder: str) -> float:
    """Two job processes released at one instant; seconds from the release to both done."""
    env = {**os.environ, "DATABASE_URL": url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, url, folder, str(n)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    while not all(os.path.exists(f"{folder}/ready-{n}") for n in range(2)):
        if any(run.poll() is not None for run in runs):
            raise SystemExit("a job process stopped early")
        time.sleep(0.05)
    started = time.perf_counter()
    Path(folder, "go").touch()
    for run in runs:
        out, _ = run.communicate(timeout=3600)
        print("  job process:", out.strip().splitlines()[-1] if out.strip() else "(nothing)")
    return time.perf_counter() - started


def run_reference(url: str, template_id: int) -> float:
    """The bare statements of a reward, two threads over the undelivered half."""
    engine = create_engine(url, pool_size=2) if url.startswith("postgresql") else create_engine(url)
    with engine.connect() as conn:
        ids = list(
            conn.scalars(
                text(
                    "SELECT i.id FROM invitations i JOIN orders o ON o.id = i.first_order_id"
                    " WHERE i.state = 'first_paid' AND o.delivered_at IS NULL ORDER BY i.id"
                )
            )
        )
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        with engine.connect() as conn:
            for invitation_id in ids:
                with conn.begin():
                    moved = conn.execute(
                        text(
                            "UPDATE invitations SET state = 'rewarded',"
                            " rewarded_at = CURRENT_TIMESTAMP"
                            " WHERE id = :id AND state = 'first_paid'"
                        ),
                        {"id": invitation_id},
                    )
                    if moved.rowcount != 1:
                        continue
                    sharer = conn.scalar(
                        text("SELECT sharer_id FROM invitations WHERE id = :id"),
                        {"id": invitation_id},
                    )
                    conn.execute(
                        text(
                            "INSERT INTO invite_rewards (invitation_id, sharer_id, kind, ref,"
                            " created_at) VALUES (:i, :s, 'coupon', '', CURRENT_TIMESTAMP)"
                        ),
                        {"i": invitation_id, "s": sharer},
                    )
                    conn.execute(
                        text(
                            "UPDATE coupon_templates SET claimed = claimed + 1"
                            " WHERE id = :t AND claimed < total"
                        ),
                        {"t": template_id},
                    )
                    conn.execute(
                        text(
                            "INSERT INTO coupons (template_id, user_id, n, source, state,"
                            " claimed_at, valid_from, expires_at, discount_minor) VALUES"
                            " (:t, :u, :n, 'invite', 'valid', CURRENT_TIMESTAMP,"
                            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"
                        ),
                        {"t": template_id, "u": sharer, "n": 1_000_000 + invitation_id},
                    )

    threads = [threading.Thread(target=work) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def counts(url: str) -> tuple[int, int, int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = tuple(
            int(conn.scalar(text(sql)) or 0)
            for sql in (
                "SELECT count(*) FROM invitations WHERE state = 'rewarded'",
                "SELECT count(*) FROM invite_rewards",
                "SELECT count(DISTINCT invitation_id) FROM invite_rewards",
                "SELECT count(*) FROM coupons WHERE source = 'invite'",
            )
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--sharers", type=int, default=20)
    parser.add_argument("--per-sharer", type=int, default=25)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="invite-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    if url.startswith("postgresql"):
        from bench.schema import ensure_database

        ensure_database(url)
    half = args.sharers * args.per_sharer
    print(f"preparing {2 * half} invitations ({args.sharers} sharers) on {url.split('://')[0]}")
    template_id = prepare(url, args.sharers, args.per_sharer)

    app_seconds = run_app(url, folder)
    rewarded, rows, distinct, coupons = counts(url)
    assert rewarded == rows == distinct == coupons == half, (rewarded, rows, distinct, coupons)
    ref_seconds = run_reference(url, template_id)
    rewarded, rows, distinct, coupons = counts(url)
    assert rewarded == rows == distinct == coupons == 2 * half, (rewarded, rows, distinct, coupons)

    app_rate, ref_rate = half / app_seconds, half / ref_seconds
    print(f"app job (2 processes, checks + reward): {half} rewards in {app_seconds:.2f} s = "
          f"{app_rate:.0f}/s, each exactly once")  # fmt: skip
    print(f"bare SQL (2 threads, same statements' core): {half} in {ref_seconds:.2f} s = "
          f"{ref_rate:.0f}/s")  # fmt: skip
    print(f"ratio app/bare = {app_rate / ref_rate:.2f}")
    print(
        f"invite_rewards_per_s={app_rate:.0f} bare_sql_per_s={ref_rate:.0f} "
        f"ratio={app_rate / ref_rate:.2f} rewarded_once={half}"
    )


if __name__ == "__main__":
    main()

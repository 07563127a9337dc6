"""For you and Following at 100k videos, next to a plain indexed ORDER BY created_at, one run.

The PostgreSQL database at --database-url (default feed_bench: emptied) is migrated, seeded set-
based (2,000 creators, 100k published videos over 90 days with skewed views, likes, favourites,
purchases, comments and watch time, a third pinning a product, and a viewer following 300
creators), its scores computed by the SQL twin of commerce/videos/rules.py (checked against the
Python rule on a sample), ANALYZEd, then each page is read many times through the app's JSON API
in process (query, serialisation and the viewer's likes and follows): first pages and pages deep
in the keyset. The reference is the same API page built on `ORDER BY created_at DESC` over an
index made for it here, and the bare query of each next to it. Last, the writes a viewer makes
while watching: the player's watch-time beacon (a new viewing, and more of the same one) next to
the view count the feed already posted once per video (the reference).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.schema import ensure_database, fresh_schema  # noqa: E402
from commerce.extensions import db  # noqa: E402
from commerce.videos import rules  # noqa: E402
from commerce.videos.engagement import engagement_of  # noqa: E402
from commerce.videos.models import Video  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/feed_bench"
CREATORS, VIDEOS, FOLLOWED = 2_000, 100_000, 300
VIEWER = CREATORS + 1
U = "(('x' || substr(md5({id}::text || '{salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)"


def u(ident: str, salt: str) -> str:
    return U.format(id=ident, salt=salt)


# The rule in SQL (the app never needs it: it scores one video at a time in Python).
SCORE_SQL = f"""
    ln(1 + {rules.VIEW} * view_count + {rules.LIKE} * like_count
         + {rules.FAVOURITE} * favourite_count + {rules.PURCHASE} * purchase_count
         + {rules.COMMENT} * comment_count + {rules.WATCH_PER_SECOND} * watch_ms / 1000.0)
    + CASE WHEN EXISTS (SELECT 1 FROM video_pins p WHERE p.video_id = videos.id)
           THEN ln({rules.PRODUCT_BONUS}) ELSE 0 END
    + extract(epoch FROM published_at - timestamp '{rules.EPOCH.isoformat()}')
      / {rules.DECAY_SECONDS}
"""


def seed() -> None:
    s = db.session
    s.execute(
        text(
            f"""
            INSERT INTO users (id, email, password_hash, display_name, bio, is_creator,
                               is_merchant, is_admin, created_at, session_version)
            SELECT i, 'u' || i || '@bench.example', 'x', 'User ' || i, '', i <= {CREATORS},
                   i = {VIEWER + 1}, false, now(), 0
            FROM generate_series(1, {VIEWER + 1}) AS i
            """
        )
    )
    s.execute(
        text(
            f"""
            INSERT INTO products (id, merchant_id, title, description, price_minor, currency,
                                  stock, creator_rate_bp, sharer_rate_bp, is_active, created_at,
                                  updated_at)
            SELECT p, {VIEWER + 1}, 'Product ' || p, '', 1990, 'CNY', 1000, 500, 1000, true,
                   now(), now()
            FROM generate_series(1, 500) AS p
            """
        )
    )
    views = f"floor(5000 * power({u('v', 'views')}, 4))::int"
    s.execute(
        text(
            f"""
            INSERT INTO videos (id, public_id, creator_id, title, description, state, playable,
                                progress, duration_ms, width, height, sprite_tiles,
                                sprite_interval_ms, master_key, view_count, like_count,
                                favourite_count, purchase_count, comment_count, watch_ms,
                                created_at, published_at)
            SELECT v, 'v' || lpad(v::text, 10, '0'),
                   1 + floor({CREATORS} * power({u("v", "c")}, 2))::int,
                   'Video ' || v, '', 'ready', true, 100, 15000, 720, 1280, 0, 0,
                   'videos/v' || v || '/master.m3u8', {views}, {views} / 20,
                   {views} / 80, {views} / 400, {views} / 50,
                   ({views})::bigint * floor(15000 * {u("v", "w")})::bigint,
                   (now() at time zone 'utc') - interval '90 days' * {u("v", "t")},
                   (now() at time zone 'utc') - interval '90 days' * {u("v", "t")}
                     + interval '5 minutes'
            FROM generate_series(1, {VIDEOS}) AS v
            """
        )
    )
    s.execute(
        text(
            f"""
            INSERT INTO video_pins (id, video_id, product_id, start_ms)
            SELECT v, v, 1 + v % 500, 0 FROM generate_series(1, {VIDEOS}) AS v WHERE v % 3 = 0
            """
        )
    )
    s.execute(text(f"UPDATE videos SET rank_score = {SCORE_SQL}"))
    s.execute(
        text(
            f"""
            INSERT INTO follows (follower_id, followee_id, created_at)
            SELECT {VIEWER}, c, now() FROM generate_series(1, {FOLLOWED}) AS c
            """
        )
    )
    for table in ("users", "products", "videos", "video_pins"):
        s.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    # The reference's index: what a plain newest-first feed on created_at would have.
    s.execute(text("CREATE INDEX bench_videos_created ON videos (created_at, id)"))
    s.commit()
    s.execute(text("ANALYZE"))
    s.commit()


def check_sql_twin(sample: int = 200) -> None:
    """The seeded scores equal the Python rule's for a sample of videos."""
    ids = random.Random(7).sample(range(1, VIDEOS + 1), sample)
    for video in db.session.scalars(select(Video).where(Video.id.in_(ids))):
        expected = rules.rank_score(engagement_of(db.session, video), video.published_at)
        assert video.rank_score is not None
        assert math.isclose(video.rank_score, expected, rel_tol=1e-12), (video.id, expected)


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: plans and caches
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def api_walk(client, url: str, pages: int) -> Callable[[], object]:
    """Read `pages` pages of one feed, following next_cursor."""

    def walk() -> None:
        cursor = None
        for _ in range(pages):
            query = url + (f"&cursor={cursor}" if cursor else "")
            body = client.get(query).get_json()
            assert body["items"], query
            cursor = body["next_cursor"]

    return walk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if args.database_url.startswith("postgresql"):
        ensure_database(args.database_url)
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "SECRET_KEY": "bench",
            "STORAGE_LOCAL_ROOT": folder,
            "SERVER_NAME": "localhost",
            "WATCH_VIEWS_PER_HOUR": 1_000_000,  # one viewer makes every viewing here
        }
    )
    with app.app_context():
        fresh_schema()
        started = time.monotonic()
        seed()
        print(f"seeded {VIDEOS:,} videos in {time.monotonic() - started:.1f} s")
        check_sql_twin()
        print("scores: the SQL twin equals commerce/videos/rules.py on 200 sampled videos")

        bare = {
            "ORDER BY created_at (reference)": "SELECT id FROM videos WHERE published_at IS NOT"
            " NULL ORDER BY created_at DESC, id DESC LIMIT 11",
            "For you: ORDER BY rank_score": "SELECT id FROM videos WHERE rank_score IS NOT NULL"
            " ORDER BY rank_score DESC, id DESC LIMIT 11",
            "Following: followed creators' newest": "SELECT id FROM videos WHERE published_at IS"
            f" NOT NULL AND creator_id IN (SELECT followee_id FROM follows WHERE follower_id ="
            f" {VIEWER}) ORDER BY published_at DESC, id DESC LIMIT 11",
        }
        print(f"\nbare first-page queries, {args.runs} runs each (ms):")
        for name, sql in bare.items():
            plan = db.session.execute(text("EXPLAIN " + sql)).scalars().all()
            samples = timed(lambda sql=sql: db.session.execute(text(sql)).all(), args.runs)
            print(
                f"  {name:40s} p50 {statistics.median(samples):6.2f}  p95 {p95(samples):6.2f}"
                f"   plan: {plan[1].strip() if len(plan) > 1 else plan[0]}"
            )
        db.session.rollback()

    # Through the API (the app's session per request, as served), anonymous and as the viewer.
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = VIEWER
        session["session_version"] = 0

    def reference_page() -> None:
        with app.app_context():
            ids = db.session.scalars(
                select(Video)
                .where(Video.published_at.is_not(None))
                .order_by(Video.created_at.desc(), Video.id.desc())
                .limit(10)
            ).all()
            assert ids

    print(f"\nfeed API pages, {args.runs} runs each (ms):")
    rows = [
        ("ORDER BY created_at, 10 rows (reference)", reference_page),
        ("Latest tab, page 1", api_walk(client, "/api/v1/feed?tab=latest", 1)),
        ("For you, page 1", api_walk(client, "/api/v1/feed?tab=for_you", 1)),
        ("For you, pages 1-5", api_walk(client, "/api/v1/feed?tab=for_you", 5)),
        ("Following, page 1", api_walk(client, "/api/v1/feed?tab=following", 1)),
        ("Following, pages 1-5", api_walk(client, "/api/v1/feed?tab=following", 5)),
    ]
    for name, call in rows:
        samples = timed(call, args.runs)
        print(f"  {name:40s} p50 {statistics.median(samples):6.2f}  p95 {p95(samples):6.2f}")

    print(f"\nwhile watching: writes through the API, {args.runs} runs each (ms):")
    writes = [
        ("View count POST, once per video (reference)", view_posts(client)),
        ("Watch beacon POST, a new viewing", beacon_posts(client, same_viewing=False)),
        ("Watch beacon POST, more of one viewing", beacon_posts(client, same_viewing=True)),
    ]
    for name, call in writes:
        samples = timed(call, args.runs)
        print(f"  {name:40s} p50 {statistics.median(samples):6.2f}  p95 {p95(samples):6.2f}")


def _token(client) -> str:
    return client.get("/api/v1/auth/csrf").get_json()["csrf_token"]


def view_posts(client) -> Callable[[], object]:
    """POST /views of a video not yet counted in this session (each call a new one)."""
    token, ids = _token(client), iter(range(1, VIDEOS + 1))

    def post() -> None:
        video = f"v{next(ids):010d}"
        response = client.post(f"/api/v1/videos/{video}/views", headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.get_json()

    return post


def beacon_posts(client, *, same_viewing: bool) -> Callable[[], object]:
    """The player's beacon as navigator.sendBeacon sends it (a form with the CSRF token)."""
    token, counter = _token(client), iter(range(1_000_000))

    def post() -> None:
        n = next(counter)
        view = "benchviewing0001" if same_viewing else f"benchview{n:07d}"
        video = f"v{1 + n % 1000 if not same_viewing else 1:010d}"
        response = client.post(
            f"/api/v1/videos/{video}/watch",
            data={"view": view, "ms": "10", "csrf_token": token},
            headers={"Origin": "http://localhost"},
        )
        assert response.status_code == 200 and response.get_json()["credited_ms"] == 10

    return post


if __name__ == "__main__":
    main()

"""Search p95 at 100k videos with Chinese and English titles, next to For you and a plain indexed
ORDER BY created_at, in one run on PostgreSQL.

The database at --database-url (default search_bench: emptied) is migrated and seeded like
bench/feed_rank_bench.py (2,000 creators, 100k published videos with scores, 500 products), then
each video gets a title: Chinese ones such as 夏季碎花连衣裙 (two of ten adjectives and one of ten
nouns, run together) and English ones such as "vintage linen dress"; one in a hundred also says
限量款 / "limited". `flask search rebuild`'s code writes the documents (timed), ANALYZE, then each
query is read many times through GET /api/v1/search in process (segmenting the query, the match,
the page, loading and serialising the videos) and as bare SQL. The reference is the newest-first
page on an index made for ORDER BY created_at, and For you's first page, measured alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.feed_rank_bench import VIDEOS, p95, seed, timed  # noqa: E402
from bench.schema import ensure_database, fresh_schema  # noqa: E402
from commerce.extensions import db  # noqa: E402
from commerce.search import indexing, rules  # noqa: E402
from commerce.search.models import SearchDocument  # noqa: E402
from commerce.search.services import FEW_MATCHES  # noqa: E402
from commerce.videos.models import Video  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/search_bench"

ZH_ADJ = ["夏季", "秋冬", "碎花", "纯棉", "真丝", "复古", "韩版", "宽松", "修身", "加厚"]
ZH_NOUN = ["连衣裙", "衬衫", "休闲裤", "羽绒服", "运动鞋", "手机壳", "茶具", "口红", "面膜", "背包"]
EN_ADJ = ["summer", "vintage", "cotton", "silk", "casual", "slim", "warm", "classic", "floral"]
EN_NOUN = ["dress", "shirt", "trousers", "jacket", "sneakers", "phone case", "tea set", "lipstick"]

# (label, query): a common Chinese word inside longer titles, a rarer two-word one, a rare word,
# English words and a prefix, Chinese and English together, and a word nothing has.
QUERIES = [
    ("连衣裙 (1 in 20)", "连衣裙"),
    ("碎花 连衣裙 (1 in 100)", "碎花 连衣裙"),
    ("限量款 (1 in 100)", "限量款"),
    ("dress (1 in 16)", "dress"),
    ("vint (prefix, 1 in 18)", "vint"),
    ("silk dress", "silk dress"),
    ("limited vintage", "limited vintage"),
    ("旗袍 (none)", "旗袍"),
]


def array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def titles() -> None:
    """Half the videos get Chinese titles, half English; one in a hundred is a limited edition."""
    zh = (
        f"({array(ZH_ADJ)})[1 + (v.id * 7) % {len(ZH_ADJ)}]"
        f" || ({array(ZH_ADJ)})[1 + (v.id / 10 * 3) % {len(ZH_ADJ)}]"
        f" || ({array(ZH_NOUN)})[1 + (v.id / 2) % {len(ZH_NOUN)}]"
        " || CASE WHEN v.id % 100 = 0 THEN ' 限量款' ELSE '' END"
    )
    en = (
        f"({array(EN_ADJ)})[1 + (v.id * 7) % {len(EN_ADJ)}]"
        f" || ' ' || ({array(EN_NOUN)})[1 + (v.id / 2) % {len(EN_NOUN)}]"
        " || CASE WHEN v.id % 100 = 1 THEN ' limited' ELSE '' END"
    )
    db.session.execute(
        text(f"UPDATE videos AS v SET title = CASE WHEN v.id % 2 = 0 THEN {zh} ELSE {en} END")
    )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if args.database_url.startswith("postgresql"):
        ensure_database(args.database_url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "SECRET_KEY": "bench",
            "STORAGE_LOCAL_ROOT": tempfile.mkdtemp(),
            "SERVER_NAME": "localhost",
            "SEARCH_RATE_LIMIT": 10**9,
        }
    )
    with app.app_context():
        assert db.engine.dialect.name == "postgresql", "the bench measures PostgreSQL"
        fresh_schema()
        started = time.monotonic()
        seed()
        titles()
        print(f"seeded {VIDEOS:,} videos in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        counts = indexing.rebuild(db.session)
        db.session.commit()
        print(f"search rebuild: {counts} in {time.monotonic() - started:.1f} s")
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        matches_of: dict[str, int] = {}
        for label, q in QUERIES:
            terms = rules.query_terms(q)
            matches = db.session.scalar(
                select(func.count())
                .select_from(SearchDocument)
                .where(
                    SearchDocument.kind == "video",
                    text("tsv @@ to_tsquery('simple', :q)").bindparams(q=rules.tsquery(terms)),
                )
            )
            matches_of[q] = matches or 0
            print(f"  {label:28s} matches {matches:6,} videos   tsquery {rules.tsquery(terms)}")

        bare = {
            "ORDER BY created_at (reference)": (
                "SELECT id FROM videos WHERE published_at IS NOT NULL"
                " ORDER BY created_at DESC, id DESC LIMIT 21",
                {},
            )
        }
        for label, q in QUERIES:
            few = ((matches_of[q] < FEW_MATCHES) and " + 0") or ""  # as services.py decides
            bare[f"search {label}"] = (
                "SELECT d.id, d.ref_id FROM search_documents d WHERE d.kind = 'video'"
                " AND d.tsv @@ to_tsquery('simple', :q) AND NOT EXISTS (SELECT 1 FROM"
                f" account_bans b WHERE b.user_id = d.owner_id)"
                f" ORDER BY d.rank{few} DESC, d.id DESC LIMIT 21",
                {"q": rules.tsquery(rules.query_terms(q))},
            )
        print(f"\nbare first-page queries, {args.runs} runs each (ms):")
        for name, (sql, params) in bare.items():
            plan = db.session.execute(text("EXPLAIN " + sql), params).scalars().all()
            samples = timed(
                lambda sql=sql, params=params: db.session.execute(text(sql), params).all(),
                args.runs,
            )
            print(
                f"  {name:40s} p50 {statistics.median(samples):6.2f}  p95 {p95(samples):6.2f}"
                f"   plan: {plan[1].strip() if len(plan) > 1 else plan[0]}"
            )
        db.session.rollback()

    client = app.test_client()

    def reference_page() -> None:
        with app.app_context():
            assert db.session.scalars(
                select(Video)
                .where(Video.published_at.is_not(None))
                .order_by(Video.created_at.desc(), Video.id.desc())
                .limit(20)
            ).all()

    def api(url: str, need_items: bool = True):
        def call() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.get_json()
            assert response.get_json()["items"] or not need_items, url

        return call

    rows = [
        ("ORDER BY created_at, 20 rows (reference)", reference_page),
        ("For you, page 1 (API)", api("/api/v1/feed?tab=for_you")),
    ]
    for label, q in QUERIES:
        rows.append(
            (f"search {label} (API)", api(f"/api/v1/search?q={quote(q)}", "none" not in label))
        )
    print(f"\nthrough the app, {args.runs} runs each (ms):")
    for name, call in rows:
        samples = timed(call, args.runs)
        print(f"  {name:40s} p50 {statistics.median(samples):6.2f}  p95 {p95(samples):6.2f}")


if __name__ == "__main__":
    main()

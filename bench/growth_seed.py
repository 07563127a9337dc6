"""Set-based seed for the data growth bench: INSERT ... SELECT generate_series on PostgreSQL.

Shapes (issue 11 §6, at 1M orders): 10k creators, 1k merchants, 50k buyers, 100k videos, one
line per order, a creator commission on every line and a sharer one on a fifth of them, about
2M ledger entries. Creators, merchants and sharers are skewed (index = floor(n * u^3)): the top
creator has about 5% of the videos and orders, the top merchant about 10% of the orders; most
have a handful. Orders are spread over the last 365 days; the phases only add ids, so the DB
grows in place (10k, then 1M) and what was measured stays.
"""

from __future__ import annotations

from typing import Any

from commerce.videos.rules import DECAY_SECONDS, EPOCH, VIEW

CREATORS, MERCHANTS, BUYERS, PRODUCTS_PER_MERCHANT = 10_000, 1_000, 50_000, 10
FIRST_MERCHANT = CREATORS + 1
FIRST_BUYER = FIRST_MERCHANT + MERCHANTS
HEAVY_CREATOR, HEAVY_MERCHANT = 1, FIRST_MERCHANT  # index 0 of each skewed draw
PASSWORD = "bench-pass-1"

# A uniform draw in [0, 1) from an id and a salt: the same rows whatever the phase boundaries.
U = "(('x' || substr(md5({id}::text || '{salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)"


def u(ident: str, salt: str) -> str:
    return U.format(id=ident, salt=salt)


def skewed(ident: str, salt: str, n: int) -> str:
    """0 most often, then 1...: a few heavy ones, most small."""
    return f"floor({n} * power({u(ident, salt)}, 3))::int"


def seed_people(cur: Any, password_hash: str) -> None:
    cur.execute(
        """
        INSERT INTO users (id, email, password_hash, display_name, bio, is_creator, is_merchant,
                           is_admin, created_at, session_version)
        SELECT i, 'u' || i || '@bench.example',
               CASE WHEN i IN (%(c)s, %(m)s) THEN %(pw)s ELSE 'x' END,
               'User ' || i, '', i <= %(creators)s, i > %(creators)s AND i < %(buyer)s, false,
               now() - interval '400 days', 0
        FROM generate_series(1, %(last)s) AS i
        """,
        {
            "c": HEAVY_CREATOR,
            "m": HEAVY_MERCHANT,
            "pw": password_hash,
            "creators": CREATORS,
            "buyer": FIRST_BUYER,
            "last": FIRST_BUYER + BUYERS - 1,
        },
    )
    cur.execute(
        f"""
        INSERT INTO products (id, merchant_id, title, description, price_minor, currency, stock,
                              creator_rate_bp, sharer_rate_bp, is_active, created_at, updated_at)
        SELECT p, {FIRST_MERCHANT} + (p - 1) / {PRODUCTS_PER_MERCHANT}, 'Product ' || p, '',
               1000 + (p * 37) % 20000, 'CNY', 1000000, 500, 1000, true,
               now() - interval '400 days', now() - interval '400 days'
        FROM generate_series(1, {MERCHANTS * PRODUCTS_PER_MERCHANT}) AS p
        """
    )


def seed_videos(cur: Any, first: int, last: int) -> None:
    """Published, playable videos; their creators skewed."""
    cur.execute(
        f"""
        INSERT INTO videos (id, public_id, creator_id, title, description, state, playable,
                            progress, duration_ms, width, height, sprite_tiles,
                            sprite_interval_ms, master_key, view_count, created_at, published_at)
        SELECT v, 'v' || lpad(v::text, 10, '0'), 1 + {skewed("v", "vc", CREATORS)},
               'Video ' || v, '', 'ready', true, 100, 15000, 720, 1280, 0, 0,
               'videos/v' || v || '/master.m3u8', v % 1000,
               now() - interval '365 days' * {u("v", "vt")},
               now() - interval '365 days' * {u("v", "vt")} + interval '5 minutes'
        FROM generate_series({first}, {last}) AS v
        """
    )
    # Their For-you score (commerce/videos/rules.py: views only, no likes or products here).
    cur.execute(
        f"""
        UPDATE videos SET rank_score = ln(1 + {VIEW} * view_count)
            + extract(epoch FROM published_at - timestamp '{EPOCH.isoformat()}') / {DECAY_SECONDS}
        WHERE id BETWEEN {first} AND {last}
        """
    )


def seed_shares(cur: Any, first: int, last: int, videos: int) -> None:
    cur.execute(
        f"""
        INSERT INTO shares (id, sharer_id, depth, target_kind, target_key, created_at)
        SELECT s, 1 + {skewed("s", "ss", CREATORS)}, 0, 'video',
               'v' || lpad((1 + (s * 7919) % {videos})::text, 10, '0'),
               now() - interval '380 days'
        FROM generate_series({first}, {last}) AS s
        """
    )


def seed_orders(cur: Any, first: int, last: int, *, videos: int, shares: int) -> None:
    """Orders, their lines, commissions, clicks and ledger entries for order ids first..last."""
    span = {"first": first, "last": last}
    # The order's facts in one place, derived from its id (the line id is the order id).
    cur.execute(
        f"""
        CREATE TEMP TABLE seed AS
        SELECT o AS id,
               {FIRST_MERCHANT} + {skewed("o", "om", MERCHANTS)} AS merchant_id,
               {FIRST_BUYER} + floor({BUYERS} * {u("o", "ob")})::int AS buyer_id,
               1 + floor({videos} * {u("o", "ov")})::int AS video_id,
               CASE WHEN {u("o", "osh")} < 0.2
                    THEN 1 + floor({shares} * {u("o", "os")})::int END AS share_id,
               1 + floor(3 * {u("o", "oq")})::int AS quantity,
               now() - interval '365 days' * {u("o", "ot")} AS at,
               {u("o", "ost")} AS fate
        FROM generate_series(%(first)s::int, %(last)s::int) AS o
        """,
        span,
    )
    cur.execute(
        f"""
        INSERT INTO orders (id, public_id, buyer_id, merchant_id, state, fulfilment, currency,
                            subtotal_minor, discount_minor, shipping_minor, total_minor,
                            refunded_minor, address, refund_requested, refund_request_reason,
                            paid_at, shipped_at, delivered_at, created_at, updated_at)
        SELECT s.id, 'o' || lpad(s.id::text, 12, '0'), s.buyer_id, s.merchant_id,
               CASE WHEN s.fate < 0.4 THEN 'completed' WHEN s.fate < 0.7 THEN 'delivered'
                    WHEN s.fate < 0.9 THEN 'shipped' ELSE 'paid' END,
               CASE WHEN s.fate < 0.4 THEN 'completed' WHEN s.fate < 0.7 THEN 'delivered'
                    WHEN s.fate < 0.9 THEN 'shipped' ELSE 'paid' END,
               'CNY', p.price_minor * s.quantity, 0, 0, p.price_minor * s.quantity, 0,
               '{{}}', false, '', s.at + interval '1 minute',
               CASE WHEN s.fate < 0.9 THEN s.at + interval '1 day' END,
               CASE WHEN s.fate < 0.7 THEN s.at + interval '3 days' END, s.at, s.at
        FROM seed s
        JOIN products p ON p.id = (s.merchant_id - {FIRST_MERCHANT}) * {PRODUCTS_PER_MERCHANT}
                                  + 1 + s.id % {PRODUCTS_PER_MERCHANT}
        """
    )
    cur.execute(
        """
        INSERT INTO share_clicks (id, share_id, visitor_id, user_id, ip_hash, user_agent_hash,
                                  ad_click_id, at)
        SELECT s.id, s.share_id, md5(s.id::text), s.buyer_id, md5('ip' || s.id),
               md5('ua'), false, s.at - interval '10 minutes'
        FROM seed s WHERE s.share_id IS NOT NULL
        """
    )
    cur.execute(
        f"""
        INSERT INTO order_lines (id, order_id, product_id, title, list_price_minor,
                                 unit_price_minor, quantity, amount_minor, refunded_minor,
                                 creator_rate_bp, sharer_rate_bp, source_kind, source_key,
                                 creator_id, click_id, chain, attributed_at)
        SELECT s.id, s.id, p.id, p.title, p.price_minor, p.price_minor, s.quantity,
               p.price_minor * s.quantity, 0, 500, 1000, 'video', v.public_id, v.creator_id,
               CASE WHEN s.share_id IS NOT NULL THEN s.id END,
               CASE WHEN s.share_id IS NOT NULL THEN json_build_array(sh.sharer_id) END,
               s.at + interval '1 minute'
        FROM seed s
        JOIN products p ON p.id = (s.merchant_id - {FIRST_MERCHANT}) * {PRODUCTS_PER_MERCHANT}
                                  + 1 + s.id % {PRODUCTS_PER_MERCHANT}
        JOIN videos v ON v.id = s.video_id
        LEFT JOIN shares sh ON sh.id = s.share_id
        """
    )
    # Commission ids: 2 * line id for the creator, 2 * line id + 1 for the sharer.
    cur.execute(
        """
        INSERT INTO commissions (id, order_line_id, user_id, role, level, share_id, base_minor,
                                 rate_bp, amount_minor, currency, reason, review, created_at)
        SELECT 2 * l.id, l.id, l.creator_id, 'creator', 0, NULL, l.amount_minor, 500,
               l.amount_minor * 500 / 10000, 'CNY', 'paid', 'none', l.attributed_at
        FROM order_lines l WHERE l.id BETWEEN %(first)s::int AND %(last)s::int
        UNION ALL
        SELECT 2 * l.id + 1, l.id, (l.chain ->> 0)::int, 'sharer', 1, c.share_id, l.amount_minor,
               1000, l.amount_minor * 1000 / 10000, 'CNY', 'paid', 'none', l.attributed_at
        FROM order_lines l JOIN share_clicks c ON c.id = l.click_id
        WHERE l.id BETWEEN %(first)s::int AND %(last)s::int
        """,
        span,
    )
    # Every commission accrues at payment; those of orders delivered and past the hold (the
    # completed ones) were released: pending -> available.
    cur.execute(
        """
        INSERT INTO ledger_entries (payee_id, commission_id, event_key, kind, bucket,
                                    amount_minor, currency, created_at)
        SELECT c.user_id, c.id, 'accrue:' || c.id, 'accrue', 'pending', c.amount_minor, 'CNY',
               c.created_at
        FROM commissions c WHERE c.order_line_id BETWEEN %(first)s::int AND %(last)s::int
        UNION ALL
        SELECT c.user_id, c.id, 'release:' || c.id, 'release', b.bucket, b.sign * c.amount_minor,
               'CNY', o.delivered_at + interval '7 days'
        FROM commissions c
        JOIN orders o ON o.id = c.order_line_id AND o.state = 'completed'
        CROSS JOIN (VALUES ('pending', -1), ('available', 1)) AS b(bucket, sign)
        WHERE c.order_line_id BETWEEN %(first)s::int AND %(last)s::int
        ORDER BY 8
        """,
        span,
    )
    cur.execute("DROP TABLE seed")


def seed_payouts(cur: Any, payees: int = 50) -> None:
    """The busiest payees withdrew half their available balance: payouts allocate FIFO."""
    cur.execute(
        """
        WITH avail AS (
            SELECT payee_id, sum(amount_minor) AS amount FROM ledger_entries
            WHERE bucket = 'available' GROUP BY payee_id ORDER BY 2 DESC LIMIT %(n)s
        ), made AS (
            INSERT INTO payouts (payee_id, amount_minor, currency, state, idempotency_key,
                                 created_at, paid_at)
            SELECT payee_id, amount / 2, 'CNY', 'paid', 'bench-' || md5(random()::text), now(),
                   now()
            FROM avail WHERE amount >= 2000
            RETURNING id, payee_id, amount_minor, created_at
        )
        INSERT INTO ledger_entries (payee_id, payout_id, event_key, kind, bucket, amount_minor,
                                    currency, created_at)
        SELECT m.payee_id, m.id, 'payout:' || m.id, 'payout', b.bucket, b.sign * m.amount_minor,
               'CNY', m.created_at
        FROM made m CROSS JOIN (VALUES ('available', -1), ('paid', 1)) AS b(bucket, sign)
        """,
        {"n": payees},
    )


def fix_sequences(cur: Any) -> None:
    for table in ("users", "products", "videos", "shares", "share_clicks", "orders",
                  "order_lines", "commissions", "ledger_entries", "payouts"):  # fmt: skip
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )

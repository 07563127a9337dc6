"""Order lists page by keyset: the served app's pages and API walk every order once, newest
first, even when orders share a timestamp or arrive while paging; a bad cursor is a 400."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from commerce.extensions import db
from commerce.orders import lifecycle
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.attribution.test_money_loop_served import Browser

PER_PAGE = 20


def add_orders(app: Flask, merchant_id: int, buyer_id: int, count: int, *, start: int) -> None:
    """Orders in pairs with one timestamp: the cursor must break ties by id."""
    now = utcnow()
    with app.app_context():
        for n in range(start, start + count):
            db.session.add(
                Order(
                    public_id=f"ord{n:06d}",
                    buyer_id=buyer_id,
                    merchant_id=merchant_id,
                    state="paid",
                    currency="CNY",
                    subtotal_minor=100,
                    total_minor=100,
                    created_at=now - timedelta(minutes=1000 - n // 2),
                )
            )
        db.session.commit()


def listed(html: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', html)


def test_served_merchant_list_walks_all_orders_by_cursor(app, create_user, processes):
    merchant = create_user(email="shop@example.com", merchant=True)
    buyer = create_user(email="buyer@example.com")
    add_orders(app, merchant.id, buyer.id, 45, start=0)
    base = processes.serve()
    seller = Browser(base).log_in("shop@example.com")

    first = seller.http.get(f"{base}/merchant/orders", timeout=20)
    assert first.status_code == 200
    pages, html = [listed(first.text)], first.text
    assert "45 orders" in html
    add_orders(app, merchant.id, buyer.id, 3, start=45)  # newer ones: must not shift the pages
    while (link := re.search(r'href="([^"]+)" rel="next"', html)) is not None:
        html = seller.http.get(base + link.group(1).replace("&amp;", "&"), timeout=20).text
        pages.append(listed(html))
    assert [len(p) for p in pages] == [20, 20, 5]
    walked = [order for page in pages for order in page]
    assert walked == [f"ord{n:06d}" for n in range(44, -1, -1)]
    assert 'rel="first"' in html  # back to the newest from a later page

    # The API pages alike, with the same cursor.
    api_pages, cursor = [], None
    while True:
        query = "/api/v1/orders?role=merchant" + (f"&cursor={cursor}" if cursor else "")
        body = seller.call("GET", query).json()
        api_pages.append([o["id"] for o in body["items"]])
        assert body["total"] == 48 and body["total_exact"] is True
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [o for p in api_pages for o in p] == [f"ord{n:06d}" for n in range(47, -1, -1)]

    bad = seller.call("GET", "/api/v1/orders?role=merchant&cursor=bm90IGEgY3Vyc29y")
    assert bad.status_code == 400
    assert seller.http.get(f"{base}/merchant/orders?cursor=%%%", timeout=20).status_code == 400


@pytest.mark.parametrize(
    ("cursor", "valid"),
    [
        ("MjAyNi0wMS0wMVQwMDowMDowMHwxMg==", True),  # 2026-01-01T00:00:00|12
        ("MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHwxMg==", False),  # with an offset
        ("MjAyNi0wMS0wMVQwMDowMDowMHw5OTk5OTk5OTk5OTk=", False),  # id beyond 32 bits
        ("MjAyNi0wMS0wMVQwMDowMDowMHww", False),  # id 0
        ("!!", False),
        ("", False),
    ],
)
def test_cursor_decoding(app, cursor, valid):
    from commerce.errors import ValidationFailed
    from commerce.pagination import decode_cursor

    with app.test_request_context():
        if valid:
            assert decode_cursor(cursor)[1] == 12
        else:
            with pytest.raises(ValidationFailed):
                decode_cursor(cursor)


def test_count_stops_at_the_limit(app, create_user, monkeypatch):
    merchant = create_user(email="big@example.com", merchant=True)
    buyer = create_user(email="b2@example.com")
    add_orders(app, merchant.id, buyer.id, 7, start=0)
    monkeypatch.setattr(lifecycle, "COUNT_LIMIT", 5)
    with app.app_context():
        listing = lifecycle.list_orders(
            db.session, db.session.get(type(merchant), merchant.id), role="merchant", state=None
        )
    assert (listing.total, listing.total_exact, len(listing.items)) == (5, False, 7)
    assert listing.next_cursor is None

"""The whole story: A shares a video, B re-shares A's link, C opens B's link, signs up, buys from
the product card and pays; A, B and the creator see pending commissions; the merchant refunds and
the commissions are reversed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.e2e.test_checkout import log_in, pay_in_drawer, publish_video_with_pin
from tests.e2e.test_share_chain import _share_from_watch_page

pytestmark = [pytest.mark.e2e, pytest.mark.ffmpeg]


def _balance(page, base_url: str, bucket: str) -> str:
    page.goto(f"{base_url}/earnings")
    return page.locator(f'[data-bucket="{bucket}"]').first.inner_text()


def test_share_chain_buy_then_refund_reverses_commissions(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    tmp_path,
    screenshots: Path,
):
    from playwright.sync_api import expect

    base = live_server.url
    creator = create_user(creator=True, name="Mia")
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(
        merchant, title="Jasmine tea", price_minor=10_000, stock=5,
        creator_rate_bp=1000, sharer_rate_bp=800,
    )  # fmt: skip
    a, b = create_user(name="Ann"), create_user(name="Bob")
    public_id = publish_video_with_pin(app, creator, product, tmp_path)
    errors: list[str] = []

    def new_page(width: int = 390):
        context = browser.new_context(viewport={"width": width, "height": 844})
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    page_a = new_page()
    log_in(page_a, base, a.email)
    link_a = _share_from_watch_page(page_a, base, public_id, screenshots / "story-share-a.png")
    page_b = new_page()
    log_in(page_b, base, b.email)
    page_b.goto(link_a)
    page_b.wait_for_url(f"{base}/v/{public_id}")
    link_b = _share_from_watch_page(page_b, base, public_id, screenshots / "story-share-b.png")

    page_c = new_page()
    page_c.goto(link_b)
    page_c.wait_for_url(f"{base}/v/{public_id}")
    page_c.goto(f"{base}/signup")
    page_c.fill("input[name=email]", "cat@example.com")
    page_c.fill("input[name=display_name]", "Cat")
    page_c.fill("input[name=password]", PASSWORD)
    page_c.click("form button[type=submit].primary")
    page_c.wait_for_url(f"{base}/")
    with app.app_context():
        cat = db.session.scalar(select(User).where(User.email == "cat@example.com"))
        db.session.expunge(cat)
    create_address(cat)

    page_c.goto(f"{base}/v/{public_id}")
    card = page_c.locator(".pin-card:not([hidden])").first
    expect(card).to_contain_text("Jasmine tea", timeout=20_000)
    card.locator(".pin-buy").click()
    drawer = page_c.locator("#checkout-drawer")
    expect(drawer).to_be_visible()
    drawer.locator(".drawer-pay").click()
    pay_in_drawer(page_c, drawer)

    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.state == "paid" and order.lines[0].chain == [b.id, a.id]
        order_id = order.public_id

    page_creator = new_page(1280)
    log_in(page_creator, base, creator.email)
    assert _balance(page_creator, base, "pending") == "¥10.00"
    assert _balance(page_b, base, "pending") == "¥8.00"
    assert _balance(page_a, base, "pending") == "¥2.00"
    page_b.screenshot(path=str(screenshots / "story-earnings-b.png"), full_page=True)

    shop = new_page(1280)
    log_in(shop, base, merchant.email, "/merchant/orders")
    shop.goto(f"{base}/orders/{order_id}")
    refund = shop.locator('form[data-action="refund"]')
    refund.locator("input[name=amount]").fill("100.00")
    refund.locator("button[type=submit]").click()
    expect(shop.locator("#order-state")).to_have_text("Refunded", timeout=15_000)

    assert _balance(page_b, base, "pending") == "¥0.00"
    assert _balance(page_b, base, "cancelled") == "¥8.00"
    assert _balance(page_a, base, "cancelled") == "¥2.00"
    assert _balance(page_creator, base, "cancelled") == "¥10.00"
    page_c.goto(f"{base}/orders/{order_id}/credits")
    expect(page_c.locator("main")).to_contain_text("Bob")
    assert errors == []

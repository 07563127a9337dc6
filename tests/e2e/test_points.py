"""Points in real browsers: a buyer with points opens the checkout drawer on a phone, turns on
"use points", sees the total drop and pays less; My points then shows the spend, and it fits a
phone and a desktop in English and Chinese. The check-in button works from the page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.commerce.points.conftest import balance
from tests.commerce.points.conftest import grant as grant
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def test_a_buyer_uses_points_in_the_drawer_and_pays_less(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    grant,
    screenshots,
):
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    tea = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    buyer = create_user(name="Bo")
    create_address(buyer)
    grant(buyer, 1000)

    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    errors: list[str] = []
    try:
        page = phone.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base, buyer.email)
        page.goto(f"{base}/products/{tea.id}")
        page.click("[data-checkout-product]")
        drawer = page.locator("#checkout-drawer")
        expect(drawer).to_be_visible()
        total = drawer.locator(".drawer-total-value")
        expect(total).to_have_text("¥29.90")
        points = drawer.locator(".drawer-points")
        expect(points).to_be_visible()
        expect(points).to_contain_text("Use 1000 points (−¥10.00)")
        expect(points).to_contain_text("You have 1000 points; this order takes up to 1000.")
        drawer.locator(".drawer-use-points").check()
        expect(total).to_have_text("¥19.90")
        page.screenshot(path=str(screenshots / "drawer-points-phone.png"))
        drawer.locator(".drawer-pay").click()
        pay_in_drawer(page, drawer)
        with app.app_context():
            order = db.session.scalars(select(Order)).one()
            assert (order.state, order.total_minor, order.points_used) == ("paid", 1990, 1000)
        assert balance(app, buyer) == 0

        # My points: the spend in the history, on a phone and a desktop, in both languages.
        for viewport in (PHONE, DESKTOP):
            for lang, spent in (("en", "Used at checkout"), ("zh_Hans", "下单抵扣")):
                context = browser.new_context(
                    viewport=viewport, storage_state=phone.storage_state()
                )
                context.add_cookies([{"name": "lang", "value": lang, "url": base}])
                mine = context.new_page()
                mine.on("pageerror", lambda error: errors.append(str(error)))
                mine.goto(f"{base}/me/points")
                expect(mine.locator("#points-history")).to_contain_text(spent)
                expect(mine.locator("#points-history li").first).to_contain_text("-1000")
                overflow = mine.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{overflow}px too wide at {viewport} in {lang}"
                mine.screenshot(path=str(screenshots / f"points-{viewport['width']}-{lang}.png"))
                context.close()

        # The check-in button, from the page.
        page.goto(f"{base}/me/points")
        page.click("#points-checkin")
        expect(page.locator(".flashes")).to_contain_text("Checked in: +10 points")
        expect(page.locator("#points-balance")).to_have_text("10")
        expect(page.locator(".points-checkin button")).to_be_disabled()
    finally:
        phone.close()
    assert errors == []

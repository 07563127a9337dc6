"""The cart page checks out each seller with what the drawer offers, in Chromium: a buyer holding a
shop coupon and points puts a seller's products in the cart from the product pages, sees the
quote's subtotal, saving and total, switches the coupon off and on, uses points, changes a
quantity and removes a line (each re-quotes), pays on the sandbox page, and the order costs what
the cart showed. The page fits a phone and a desktop in English and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.catalog.models import Product
from commerce.coupons.models import Coupon
from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.coupons.conftest import claim, create_template  # noqa: F401  (fixture)
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.commerce.points.conftest import balance
from tests.commerce.points.conftest import grant as grant
from tests.e2e.test_checkout import log_in
from tests.e2e.test_every_page import CHECKS, IMPORTANT, english_strings

pytestmark = [pytest.mark.e2e]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def _minor(shown: str) -> int:
    """'¥84.80' -> 8480."""
    return round(float(shown.lstrip("¥").replace(",", "")) * 100)


def test_the_cart_quotes_coupons_and_points_and_the_order_costs_what_it_showed(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    create_template,  # noqa: F811
    grant,
    make_api,
    screenshots: Path,
):
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    tea = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    cup = create_product(merchant, title="Celadon cup", price_minor=4500, stock=5)
    spoon = create_product(merchant, title="Bamboo spoon", price_minor=800, stock=5)
    template = create_template(
        merchant, title="Tea House ¥10", amount_minor=1000, min_spend_minor=5000
    )
    buyer = create_user(name="Bo")
    create_address(buyer)
    assert claim(make_api(buyer), template).status_code == 201
    grant(buyer, 1000)  # 100 points take ¥1 off: ¥10.00, within half of the order

    phone = browser.new_context(viewport=VIEWPORTS["phone"], has_touch=True, is_mobile=True)
    errors: list[str] = []
    try:
        page = phone.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base, buyer.email)
        for product in (tea, cup, spoon):
            page.goto(f"{base}/products/{product.id}")
            page.click("[data-checkout-product]")
            drawer = page.locator("#checkout-drawer")
            drawer.locator(".drawer-cart").click()
            expect(drawer.locator(".drawer-status")).to_have_text("Added to your cart.")

        page.goto(f"{base}/cart")
        group = page.locator(f'.cart-group[data-merchant="{merchant.id}"]')
        subtotal, total = group.locator(".cart-subtotal-value"), group.locator(".cart-total-value")
        saving, coupon = group.locator(".drawer-saving"), group.locator(".drawer-coupon")
        # 29.90 + 45.00 + 8.00, the shop coupon's ¥10 by itself
        expect(subtotal).to_have_text("¥82.90")
        expect(saving).to_have_text("You save ¥10.00")
        expect(total).to_have_text("¥72.90")

        spoon_line = group.locator(f'li[data-product="{spoon.id}"]')
        spoon_line.locator(".cart-remove").click()
        expect(spoon_line).to_have_count(0)
        expect(subtotal).to_have_text("¥74.90")
        expect(total).to_have_text("¥64.90")

        coupon.select_option("none")  # the coupon off, then on again
        expect(total).to_have_text("¥74.90")
        expect(saving).to_be_hidden()
        with app.app_context():
            coupon_id = db.session.scalars(select(Coupon.id)).one()
        coupon.select_option(str(coupon_id))
        expect(total).to_have_text("¥64.90")
        expect(saving).to_have_text("You save ¥10.00")

        points = group.locator(".drawer-points")
        expect(points).to_contain_text("Use 1000 points (−¥10.00)")
        points.locator(".drawer-use-points").check()
        expect(total).to_have_text("¥54.90")
        expect(saving).to_have_text("You save ¥20.00")

        group.locator(f'li[data-product="{tea.id}"] .cart-qty').fill("2")
        group.locator(f'li[data-product="{tea.id}"] .cart-qty').dispatch_event("change")
        expect(subtotal).to_have_text("¥104.80")
        expect(total).to_have_text("¥84.80")
        expect(coupon).to_have_value(str(coupon_id))
        expect(points.locator(".drawer-use-points")).to_be_checked()

        # Someone else buys the last cups: the next quote says so before Pay, and clears once
        # the shop restocks.
        quote_error = group.locator(".cart-quote-error")
        expect(quote_error).to_be_hidden()
        for stock, shown in ((0, True), (5, False)):
            with app.app_context():
                db.session.get(Product, cup.id).stock = stock
                db.session.commit()
            group.locator(f'li[data-product="{tea.id}"] .cart-qty').dispatch_event("change")
            if shown:
                expect(quote_error).to_have_text("Celadon cup does not have enough stock left.")
                expect(total).to_be_hidden()  # no total for a basket that cannot be ordered
            else:
                expect(quote_error).to_be_hidden()
        expect(total).to_have_text("¥84.80")
        page.screenshot(path=str(screenshots / "cart-quote-phone.png"), full_page=True)

        # Both viewports, both languages, on this cart as it stands.
        english = english_strings()
        for size, viewport in VIEWPORTS.items():
            for lang in ("en", "zh_Hans"):
                context = browser.new_context(
                    viewport=viewport,
                    has_touch=size == "phone",
                    storage_state=phone.storage_state(),
                )
                context.add_cookies([{"name": "lang", "value": lang, "url": base}])
                look = context.new_page()
                look.on("pageerror", lambda error: errors.append(str(error)))
                look.goto(f"{base}/cart")
                shown = look.locator(".cart-group .cart-total-value")
                expect(shown).to_have_text("¥94.80")  # the coupon, no points yet
                look.locator(".cart-group .drawer-use-points").check()
                expect(shown).to_have_text("¥84.80")
                if lang == "zh_Hans":
                    expect(look.locator(".cart-group .drawer-saving")).to_have_text("已省 ¥20.00")
                found = look.evaluate(
                    CHECKS, [IMPORTANT[size], english if lang == "zh_Hans" else None]
                )
                look.screenshot(path=str(screenshots / f"cart-{size}-{lang}.png"), full_page=True)
                assert found == [], f"{size} {lang}: {found}"
                context.close()

        shown_total = total.inner_text()
        page.click(".cart-checkout button[type=submit]")
        page.wait_for_url(f"{base}/pay/sandbox/**")
        page.fill("input[name=card_number]", "4242 4242 4242 4242")
        page.click("main form button[type=submit].primary")
        expect(page.locator("main")).to_contain_text("Payment succeeded", timeout=15_000)
        for _ in range(60):  # the webhook is applied by the job worker
            with app.app_context():
                if db.session.scalars(select(Order.state)).one() == "paid":
                    break
            page.wait_for_timeout(250)
        with app.app_context():
            order = db.session.scalars(select(Order)).one()
            assert order.state == "paid"
            assert order.total_minor == _minor(shown_total) == 8480
            assert (order.subtotal_minor, order.points_used) == (10480, 1000)
            assert db.session.get(Coupon, coupon_id).order_id == order.id
        assert balance(app, buyer) == 0
        page.goto(f"{base}/cart")
        expect(page.locator("main")).to_contain_text("Your cart is empty.")
    finally:
        phone.close()
    assert errors == []

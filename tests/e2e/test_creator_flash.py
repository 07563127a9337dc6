"""Issue 12: a merchant lets creators run flash sales of a product within bounds (product form);
a creator starts one from their control room (refused outside the bounds, started inside); a
phone viewer who had the room open sees the flash price, badge and countdown on the pin card and
the shelf, one who opens it mid-sale sees them from the snapshot, and pays the flash price."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]


def test_a_creator_runs_a_flash_sale_within_the_merchants_bounds_and_a_viewer_pays_it(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    screenshots,
):
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    creator = create_user(creator=True, name="Mia")
    buyer = create_user(name="Bo")
    create_address(buyer)
    tea = create_product(merchant, title="Tea set", price_minor=12900, stock=20)

    http = live_server.login(creator.email)
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    made = http.post(
        f"{base}/api/v1/live/rooms",
        json={"title": "Tea live", "featured_product_ids": [tea.id]},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    room_id = made.json()["id"]
    started = http.post(
        f"{base}/api/v1/live/rooms/{room_id}/start", headers={"X-CSRFToken": token}, timeout=10
    )
    assert started.status_code == 200, started.text

    errors: list[str] = []
    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    studio = browser.new_context(viewport={"width": 1366, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        # The merchant opens the product to creators' flash sales: from ¥50.00, 10 units, 10 min.
        shop = desk.new_page()
        shop.on("pageerror", lambda error: errors.append(f"shop: {error}"))
        log_in(shop, base, merchant.email)
        shop.goto(f"{base}/merchant/products/{tea.id}/edit")
        shop.select_option("select[name=creator_flash]", "all")
        shop.fill("input[name=creator_flash_min_price]", "50.00")
        shop.fill("input[name=creator_flash_max_quantity]", "10")
        shop.fill("input[name=creator_flash_max_minutes]", "10")
        shop.click("form button[type=submit].primary")
        expect(shop.locator("body")).to_contain_text("Product saved.")
        expect(shop.locator("input[name=creator_flash_min_price]")).to_have_value("50.00")
        # The form fits a phone, in Chinese too.
        small = phone.new_page()
        small.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
        log_in(small, base, merchant.email)
        small.goto(f"{base}/merchant/products/{tea.id}/edit")
        expect(small.locator("fieldset.creator-flash legend")).to_have_text("创作者秒杀")
        overflow = small.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, overflow
        small.screenshot(path=str(screenshots / "creator-flash-form-zh.png"), full_page=True)
        small.close()

        viewer = phone.new_page()
        viewer.on("pageerror", lambda error: errors.append(f"room: {error}"))
        log_in(viewer, base, buyer.email)
        viewer.goto(f"{base}/live/{room_id}")

        control = studio.new_page()
        control.on("pageerror", lambda error: errors.append(f"control: {error}"))
        log_in(control, base, creator.email)
        control.goto(f"{base}/studio/live/{room_id}")
        control.click(f'#control-shelf [data-product-id="{tea.id}"] .shelf-pin')
        card = viewer.locator("#live-pins .pin-card").first
        expect(card).to_contain_text("Tea set", timeout=5_000)
        expect(card.locator(".pin-price")).to_have_text("¥129.00")

        # The form shows the seller's bounds; below the floor is refused, naming the price.
        control.select_option("#flash-product", str(tea.id))
        expect(control.locator("#flash-bounds")).to_contain_text("¥50.00")
        expect(control.locator("#flash-bounds")).to_contain_text("10")
        control.fill("#flash-price", "40.00")
        control.fill("#flash-quantity", "5")
        control.click("#flash-start")
        expect(control.locator("#flash-error")).to_contain_text("outside the bounds")
        expect(control.locator("#flash-error")).to_contain_text("¥50.00")
        expect(card.locator(".pin-flash")).to_be_hidden()
        control.fill("#flash-quantity", "11")
        control.fill("#flash-price", "59.90")
        control.click("#flash-start")
        expect(control.locator("#flash-error")).to_contain_text("at most 10 units")

        # Within the bounds: it starts, and the open room shows it (the pins event).
        control.fill("#flash-quantity", "5")
        control.click("#flash-start")
        expect(control.locator("#flash-error")).to_be_hidden()
        expect(card.locator(".pin-flash")).to_be_visible(timeout=5_000)
        expect(card.locator(".pin-price")).to_have_text("¥59.90")
        expect(card.locator(".pin-list-price")).to_have_text("¥129.00")
        countdown = card.locator(".pin-countdown")
        expect(countdown).to_have_text(re.compile(r"Ends in [45]:\d\d"))
        first = countdown.inner_text()
        expect(countdown).not_to_have_text(first, timeout=3_000)  # ticks on its own

        # Opened mid-sale (the snapshot): the card and the shelf show it too.
        viewer.reload()
        card = viewer.locator("#live-pins .pin-card").first
        expect(card.locator(".pin-price")).to_have_text("¥59.90", timeout=5_000)
        expect(card.locator(".flash-badge")).to_be_visible()
        viewer.click("#shelf-open")
        item = viewer.locator(f'#live-shelf [data-product-id="{tea.id}"]')
        expect(item.locator(".shelf-price")).to_have_text("¥59.90")
        expect(item.locator(".flash-badge")).to_be_visible()
        expect(item.locator(".shelf-countdown")).to_have_text(re.compile(r"Ends in \d+:\d\d"))
        viewer.screenshot(path=str(screenshots / "creator-flash-shelf.png"))
        viewer.click("#shelf-close")

        card.locator(".pin-buy").tap()
        drawer = viewer.locator("#checkout-drawer")
        expect(drawer).to_be_visible()
        expect(drawer.locator(".drawer-flash")).to_be_visible()
        drawer.locator(".drawer-pay").tap()
        pay_in_drawer(viewer, drawer)

        with app.app_context():
            order = db.session.scalar(select(Order))
            assert order is not None and order.state == "paid"
            (line,) = order.lines
            assert line.unit_price_minor == 5990 and line.flash_sale_id is not None
            db.session.remove()
        assert errors == []
    finally:
        desk.close()
        studio.close()
        phone.close()


@pytest.mark.ffmpeg
def test_a_video_pin_card_shows_the_running_flash_sale_and_it_ends_by_itself(
    app, live_server, browser, create_user, create_product, tmp_path, screenshots
):
    """A flash sale scheduled by the merchant (no live at all) shows on the video's pin card in
    the watch page; when it ends the card goes back to the list price without a reload."""
    from playwright.sync_api import expect

    from commerce.flashsales.models import FlashSale
    from commerce.timeutil import utcnow
    from tests.e2e.test_checkout import publish_video_with_pin

    creator = create_user(creator=True, name="Mia")
    merchant = create_user(merchant=True, name="Tea House")
    tea = create_product(merchant, title="Jasmine tea", price_minor=12900, stock=5)
    public_id = publish_video_with_pin(app, creator, tea, tmp_path)
    now = utcnow()
    with app.app_context():
        db.session.add(
            FlashSale(
                product_id=tea.id,
                price_minor=5990,
                starts_at=now - timedelta(seconds=5),
                ends_at=now + timedelta(seconds=8),
                quantity=5,
            )
        )
        db.session.commit()
        db.session.remove()

    viewer = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = viewer.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/v/{public_id}")
        card = page.locator(".pin-card:not([hidden])").first
        expect(card).to_contain_text("Jasmine tea", timeout=15_000)
        expect(card.locator(".pin-price")).to_have_text("¥59.90")
        expect(card.locator(".pin-list-price")).to_have_text("¥129.00")
        expect(card.locator(".flash-badge")).to_be_visible()
        expect(card.locator(".pin-countdown")).to_have_text(re.compile(r"Ends in 0:0\d"))
        page.screenshot(path=str(screenshots / "video-pin-flash.png"))
        expect(card.locator(".pin-price")).to_have_text("¥129.00", timeout=12_000)
        expect(card.locator(".pin-flash")).to_be_hidden()
        assert errors == []
    finally:
        viewer.close()

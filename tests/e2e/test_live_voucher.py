"""A LIVE voucher in real browsers: a shop makes a voucher for one creator (达人专属券); she, no
merchant herself, pins it from her control page; a viewer on a phone sees the voucher card in the
room, waits out the watch task (server time), claims it, buys the pinned product in the checkout
drawer and pays ¥5.00 less. (A host pinning her own shop's coupon: tests/commerce/coupons.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from commerce.coupons.models import Coupon
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]


def test_a_host_pins_a_live_voucher_a_viewer_claims_it_and_pays_less(
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
    host = create_user(creator=True, name="Mia")
    shop = create_user(merchant=True, name="Lotus")
    tea = create_product(shop, title="Jasmine tea", price_minor=2990, stock=20)
    buyer = create_user(name="Bo")
    create_address(buyer)

    shop_http = live_server.login(shop.email)
    shop_token = shop_http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    voucher = shop_http.post(
        f"{base}/api/v1/coupons/templates",
        json={
            "title": "Live only",
            "amount_minor": 500,
            "min_spend_minor": 1000,
            "claim_ends_at": (utcnow() + timedelta(hours=2)).isoformat(),
            "valid_days": 1,
            "total": 100,
            "live_only": True,
            "task": "watch",
            "watch_seconds": 2,
            "scope": "creator",
            "creator_id": host.id,
        },
        headers={"X-CSRFToken": shop_token},
        timeout=10,
    )
    assert voucher.status_code == 201, voucher.text
    http = live_server.login(host.email)
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    made = http.post(
        f"{base}/api/v1/live/rooms",
        json={"title": "Tea live", "featured_product_ids": [tea.id]},
        headers=headers,
        timeout=10,
    )
    room_id = made.json()["id"]
    started = http.post(f"{base}/api/v1/live/rooms/{room_id}/start", headers=headers, timeout=10)
    assert started.status_code == 200, started.text

    errors: list[str] = []
    studio = browser.new_context(viewport={"width": 1366, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        viewer = phone.new_page()
        viewer.on("pageerror", lambda error: errors.append(f"room: {error}"))
        log_in(viewer, base, buyer.email)
        viewer.goto(f"{base}/live/{room_id}")
        card = viewer.locator("#voucher-card")
        expect(card).to_be_hidden()

        control = studio.new_page()
        control.on("pageerror", lambda error: errors.append(f"control: {error}"))
        log_in(control, base, host.email)
        control.goto(f"{base}/studio/live/{room_id}")
        expect(control.locator("#voucher-pin")).to_be_enabled(timeout=5_000)
        control.select_option("#voucher-template", str(voucher.json()["id"]))
        control.click("#voucher-pin")
        expect(control.locator("#voucher-current")).to_contain_text("Live only")

        # The room hears of the pin over Socket.IO: the card shows, locked by the watch task.
        expect(card).to_be_visible(timeout=5_000)
        expect(card).to_contain_text("¥5.00 off on orders over ¥10.00")
        claim = card.locator(".coupon-claim")
        # Unlocked once the server's clock says 2 s have passed since the viewer arrived.
        expect(claim).to_be_enabled(timeout=10_000)
        viewer.screenshot(path=str(screenshots / "live-voucher-card.png"))
        claim.tap()
        expect(claim).to_have_text("Claimed", timeout=5_000)

        # The host pins the product; the viewer buys it in the drawer with the voucher applied.
        control.click(f'#control-shelf [data-product-id="{tea.id}"] .shelf-pin')
        pin = viewer.locator("#live-pins .pin-card").first
        expect(pin).to_contain_text("Jasmine tea", timeout=5_000)
        pin.locator(".pin-buy").tap()
        drawer = viewer.locator("#checkout-drawer")
        expect(drawer).to_be_visible()
        expect(drawer.locator(".drawer-saving")).to_have_text("You save ¥5.00", timeout=5_000)
        expect(drawer.locator(".drawer-total-value")).to_have_text("¥24.90")
        viewer.screenshot(path=str(screenshots / "live-voucher-drawer.png"))
        drawer.locator(".drawer-pay").tap()
        pay_in_drawer(viewer, drawer)

        with app.app_context():
            order = db.session.scalar(select(Order))
            assert order.state == "paid" and order.buyer_id == buyer.id
            assert (order.discount_minor, order.total_minor) == (500, 2490)
            coupon = db.session.scalar(select(Coupon))
            assert coupon.state == "used" and coupon.order_id == order.id
            assert coupon.source == "live"
            db.session.remove()
    finally:
        studio.close()
        phone.close()
    assert errors == []

"""A tour of the main pages under the Content-Security-Policy: none logs a violation (the
csp_violations fixture fails the test on any), the player plays, the drawer's pay page loads in
its frame, and another site may not frame our pages."""

from __future__ import annotations

import uuid

import pytest

from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.test_checkout import log_in, pay_in_drawer, publish_video_with_pin

pytestmark = [pytest.mark.e2e, pytest.mark.ffmpeg]


def visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state()
    page.wait_for_timeout(400)  # let the page's scripts start (players, sockets, fetches)


def pay_url_for(make_api, buyer, product, address_id) -> str:
    api = make_api(buyer)
    body = {"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id}
    placed = api.post("/api/v1/orders", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    order_id = placed.get_json()["orders"][0]["id"]
    payment = api.post(
        f"/api/v1/orders/{order_id}/payments", {}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    return payment.get_json()["pay_url"]


def test_main_pages_raise_no_csp_violation(
    app,
    live_server,
    browser,
    csp_violations,
    create_user,
    create_product,
    create_address,  # noqa: F811
    make_api,
    tmp_path,
):
    from playwright.sync_api import expect

    base = live_server.url
    host = create_user(creator=True, merchant=True, name="Mia")
    product = create_product(host, title="Jasmine tea", price_minor=2990, stock=20)
    buyer = create_user(name="Bo")
    address_id = create_address(buyer)
    public_id = publish_video_with_pin(app, host, product, tmp_path)
    room = make_api(host).post(
        "/api/v1/live/rooms", {"title": "Tea tasting", "featured_product_ids": [product.id]}
    )
    room_id = room.get_json()["id"]
    pay_url = pay_url_for(make_api, buyer, product, address_id)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in ("/", "/login", "/signup", "/products", f"/products/{product.id}"):
        visit(page, f"{base}{path}")
    log_in(page, base, buyer.email)

    # The feed plays through hls.js (blob: media, its worker), then the drawer pays in its frame.
    visit(page, f"{base}/v/{public_id}")
    page.wait_for_function(
        "() => { const v = document.querySelector('video.feed-video');"
        " return v && v.currentTime > 0.3; }",
        timeout=30_000,
    )
    page.locator(".share-button").first.click()
    expect(page.locator(".share-qr")).to_have_js_property("complete", True, timeout=10_000)
    page.keyboard.press("Escape")
    page.locator(".pin-card:not([hidden]) .pin-buy").first.click()
    drawer = page.locator("#checkout-drawer")
    expect(drawer).to_be_visible()
    drawer.locator(".drawer-pay").click()
    pay_in_drawer(page, drawer)

    visit(page, f"{base}{pay_url}" if pay_url.startswith("/") else pay_url)
    expect(page.locator("input[name=card_number]")).to_be_visible()
    for path in ("/orders", "/cart", "/addresses", "/earnings", "/profile", f"/live/{room_id}"):
        visit(page, f"{base}{path}")
    page.locator(".address-list")  # the addresses page's script is a static module now

    studio = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = studio.new_page()
    desk.on("pageerror", lambda error: errors.append(str(error)))
    log_in(desk, base, host.email)
    for path in (
        "/studio",
        f"/studio/videos/{public_id}",
        "/studio/live",
        "/studio/live/new",
        f"/studio/live/{room_id}",
        "/studio/earnings",
        "/merchant/products",
        "/merchant/products/new",
        "/merchant/orders",
        f"/c/{host.id}",
    ):
        visit(desk, f"{base}{path}")

    # Another site may not frame our pages (frame-ancestors 'self').
    stranger = browser.new_context()
    other = stranger.new_page()
    blocked: list[str] = []
    other.on("console", lambda message: blocked.append(message.text))
    other.set_content(f'<iframe src="{base}/login"></iframe>')
    other.wait_for_timeout(1000)
    assert any("frame-ancestors" in text for text in blocked), blocked
    assert errors == []
    csp_violations[:] = [text for text in csp_violations if "frame-ancestors" not in text]
    for context in (phone, studio, stranger):
        context.close()

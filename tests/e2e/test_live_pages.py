"""A host schedules a live in the studio, goes live and pins a product from the control room; a
viewer on a phone gets the card within a second, sends a heart and a chat message the host sees,
and opens the checkout drawer from the card."""

from __future__ import annotations

import re
import time

import pytest

from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e]


def log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()


def test_schedule_go_live_pin_then_a_phone_viewer_buys_hearts_and_chats(
    app, live_server, browser, create_user, create_product, screenshots
):
    from playwright.sync_api import expect

    host = create_user(creator=True, merchant=True, name="Mia")
    products = [
        create_product(host, title=title, price_minor=price, stock=30)
        for title, price in [
            ("Jasmine tea", 2990),
            ("Oolong", 3990),
            ("Tea cup", 1290),
            ("Teapot", 8800),
        ]
    ]
    buyer = create_user(name="Bo")
    errors: list[str] = []
    studio = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = studio.new_page()
        page.on("pageerror", lambda error: errors.append(f"control: {error}"))
        log_in(page, live_server.url, host.email)

        # Schedule in the studio.
        page.goto(f"{live_server.url}/studio")
        page.click("#studio-live-link")
        page.click("#new-room")
        page.fill("#room-title", "Tea tasting live")
        page.fill("#room-description", "Four teas, one hour.")
        for product in products:
            page.check(f'#shelf-picker input[value="{product.id}"]')
        page.click("#room-save")
        page.wait_for_url(re.compile(r"/studio/live/(?!new$)[\w-]+$"))
        room_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        expect(page.locator("#control-shelf .shelf-row")).to_have_count(4)
        expect(page.locator("#room-state-badge")).to_contain_text("Upcoming")

        # The viewer arrives on a phone before the show starts.
        viewer = phone.new_page()
        viewer.on("pageerror", lambda error: errors.append(f"room: {error}"))
        log_in(viewer, live_server.url, buyer.email)
        viewer.goto(f"{live_server.url}/live/{room_id}")
        expect(viewer.locator("#curtain-upcoming")).to_be_visible()

        # Go live with the (fake) camera: the viewer waits for the first segments of the media.
        page.click("#go-live")
        expect(page.locator("#room-state-badge")).to_contain_text("LIVE")
        expect(page.locator("#camera-preview")).to_have_js_property("paused", False)
        expect(viewer.locator("#live-badge")).to_be_visible(timeout=5_000)
        expect(viewer.locator("#curtain-waiting")).to_be_visible(timeout=10_000)

        # Pin: the card reaches the phone within a second.
        page.click(f'#control-shelf [data-product-id="{products[0].id}"] .shelf-pin')
        expect(
            page.locator(f'#control-shelf [data-product-id="{products[0].id}"] .shelf-pin')
        ).to_have_attribute("aria-pressed", "true")
        started = time.monotonic()
        card = viewer.locator("#live-pins .pin-card").first
        expect(card).to_contain_text("Jasmine tea", timeout=1_000)
        assert time.monotonic() - started < 1.0
        # Two more, then a fourth is refused by the server, and the refusal is shown.
        for product in products[1:3]:
            page.click(f'#control-shelf [data-product-id="{product.id}"] .shelf-pin')
            expect(
                page.locator(f'#control-shelf [data-product-id="{product.id}"] .shelf-pin')
            ).to_have_attribute("aria-pressed", "true")
        page.click(f'#control-shelf [data-product-id="{products[3].id}"] .shelf-pin')
        expect(page.locator("#pin-error")).to_contain_text("At most 3")
        expect(viewer.locator("#live-pins .pin-card")).to_have_count(3)
        page.click(f'#control-shelf [data-product-id="{products[2].id}"] .shelf-pin')
        expect(viewer.locator("#live-pins .pin-card")).to_have_count(2)

        # A flash sale on the first pin: the phone shows its countdown and stock.
        page.select_option("#flash-product", str(products[0].id))
        page.fill("#flash-price", "19.90")
        page.fill("#flash-quantity", "10")
        page.click("#flash-start")
        expect(card.locator(".pin-flash")).to_be_visible(timeout=5_000)
        expect(card.locator(".pin-remaining")).to_contain_text("10")
        expect(card.locator(".pin-countdown")).to_contain_text("Ends in")

        # Hearts and chat from the phone reach the host.
        viewer.locator("#heart-button").tap()
        viewer.locator("#heart-button").tap()
        expect(page.locator("#stat-hearts")).to_have_text("2", timeout=5_000)
        viewer.fill("#chat-input", "Hello from the phone <b>hi</b> https://example.com")
        viewer.press("#chat-input", "Enter")
        message = page.locator("#chat-list .chat-message", has_text="Hello from the phone")
        expect(message).to_be_visible(timeout=5_000)
        expect(message.locator(".chat-text")).to_contain_text("<b>hi</b>")  # text, not markup
        assert message.locator("a").count() == 0  # a viewer's link is not clickable
        expect(viewer.locator("#chat-list")).to_contain_text("Hello from the phone")
        page.fill("#chat-input", "Welcome! Menu at https://example.com/menu")
        page.press("#chat-input", "Enter")
        host_line = viewer.locator("#chat-list .chat-message", has_text="Welcome!")
        expect(host_line.locator("a")).to_have_attribute("href", "https://example.com/menu")
        expect(viewer.locator("#chat-announcer")).to_contain_text("Welcome!")

        # The card opens the checkout drawer over the room.
        viewer.screenshot(path=str(screenshots / "live-room.png"))
        card.locator(".pin-buy").tap()
        drawer = viewer.locator("#checkout-drawer")
        expect(drawer).to_be_visible()
        expect(drawer.locator(".drawer-product-title")).to_have_text("Jasmine tea")
        expect(drawer.locator(".drawer-flash")).to_be_visible()
        viewer.wait_for_timeout(400)  # the drawer's slide-in
        viewer.screenshot(path=str(screenshots / "live-room-checkout.png"))
        viewer.locator(".drawer-close").click()

        # The host deletes the viewer's message; it leaves the phone too.
        message.get_by_role("button", name="Delete the message from Bo").click()
        expect(viewer.locator("#chat-list")).not_to_contain_text(
            "Hello from the phone", timeout=5_000
        )
        page.screenshot(path=str(screenshots / "live-control.png"), full_page=True)

        # End the live: the phone shows it has ended.
        page.click("#end-live")
        page.click("#end-confirm-yes")
        expect(page.locator("#room-state-badge")).to_contain_text("Ended")
        expect(viewer.locator("#curtain-ended")).to_be_visible(timeout=5_000)
        viewer.screenshot(path=str(screenshots / "live-room-ended.png"))
        assert errors == []
    finally:
        app.extensions["live_fanout"].stop()
        studio.close()
        phone.close()


@pytest.mark.ffmpeg
def test_the_replay_tells_the_chat_and_the_past_flash_sale_and_sells_at_todays_price(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    tmp_path,
    screenshots,
):
    from datetime import timedelta

    from playwright.sync_api import expect
    from sqlalchemy import update

    from commerce.extensions import db
    from commerce.live.models import LiveChatMessage, LiveRoom
    from commerce.orders.models import FlashSale, Order
    from commerce.timeutil import utcnow
    from commerce.videos.models import Video
    from tests.e2e.test_checkout import publish_video_with_pin

    host = create_user(creator=True, merchant=True, name="Mia")
    product = create_product(host, title="Jasmine tea", price_minor=2990)
    buyer = create_user(name="Bo")
    create_address(buyer)
    http = live_server.login(host.email)
    token = http.get(f"{live_server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    rooms = f"{live_server.url}/api/v1/live/rooms"
    headers = {"X-CSRFToken": token}
    room = {"title": "Tea", "featured_product_ids": [product.id]}
    room_id = http.post(rooms, json=room, headers=headers, timeout=10).json()["id"]
    assert http.post(f"{rooms}/{room_id}/start", headers=headers, timeout=10).ok
    said = http.post(
        f"{rooms}/{room_id}/chat", json={"text": "First cup!"}, headers=headers, timeout=10
    )
    assert said.ok, said.text
    pin = {"product_id": product.id}
    assert http.post(f"{rooms}/{room_id}/pins", json=pin, headers=headers, timeout=10).ok
    flash = {**pin, "price_minor": 1990, "duration_seconds": 600, "quantity": 3}
    assert http.post(f"{rooms}/{room_id}/flash-sales", json=flash, headers=headers, timeout=10).ok
    assert http.post(f"{rooms}/{room_id}/end", headers=headers, timeout=10).ok
    video_id = publish_video_with_pin(app, host, product, tmp_path)
    with app.app_context():
        row = db.session.scalar(db.select(LiveRoom).where(LiveRoom.public_id == room_id))
        row.replay_video_id = db.session.scalar(
            db.select(Video.id).where(Video.public_id == video_id)
        )
        # The show began an hour ago: the sale (over a minute ago) spans the 10 s replay clip.
        row.started_at = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(FlashSale).values(
                starts_at=row.started_at, ends_at=utcnow() - timedelta(minutes=1)
            )
        )
        db.session.execute(
            update(LiveChatMessage).values(created_at=row.started_at + timedelta(seconds=1))
        )
        db.session.commit()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live_server.url, buyer.email)
        page.goto(f"{live_server.url}/live/{room_id}")
        page.click("#replay-link")
        page.wait_for_url(f"**/v/{video_id}")
        expect(page.locator("#replay-chat")).to_contain_text("First cup!", timeout=20_000)
        # The sale is told as past, with today's price beside it: the card's and the drawer's.
        expect(page.locator("#replay-flash")).to_have_text(
            "Flash sale in the live: Jasmine tea at ¥19.90 — ended, now ¥29.90"
        )
        card = page.locator(".pin-card:not([hidden])").first
        expect(card).to_contain_text("Jasmine tea")
        expect(card.locator(".pin-price")).to_have_text("¥29.90")
        page.screenshot(path=str(screenshots / "live-replay.png"))

        card.locator(".pin-buy").click()
        drawer = page.locator("#checkout-drawer")
        expect(drawer.locator(".drawer-unit")).to_have_text("¥29.90")
        expect(drawer.locator(".drawer-flash")).to_be_hidden()
        drawer.locator(".drawer-pay").click()
        expect(drawer.locator(".drawer-paying")).to_be_visible(timeout=10_000)
        with app.app_context():
            (line,) = db.session.scalar(db.select(Order)).lines
            assert (line.unit_price_minor, line.source_kind, line.source_key) == (
                2990,
                "live",
                room_id,
            )
            assert line.creator_id == host.id
        assert errors == []
    finally:
        phone.close()

"""A viewer buys the pinned product from the drawer while the video keeps playing; pays in the
sandbox with 4242; sees it paid; the merchant ships."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from commerce.extensions import db
from commerce.files.services import storage
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoPin
from media.samples import generate_clip
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.ffmpeg]


def publish_video_with_pin(app, creator, product, folder: Path) -> str:
    """A published video row with a small real HLS (copied, not transcoded) and a pin at 0 s."""
    clip = folder / "clip.mp4"
    generate_clip(clip, duration_s=10, width=240, height=426, label="buy me")
    hls = folder / "hls"
    hls.mkdir()
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-i",
            str(clip),
            "-c",
            "copy",
            "-hls_time",
            "2",
            "-hls_playlist_type",
            "vod",
            "-f",
            "hls",
            str(hls / "index.m3u8"),
        ],
        check=True,
        timeout=60,
    )
    public_id = uuid.uuid4().hex[:12]
    with app.app_context():
        backend = storage()
        for path in hls.iterdir():
            kind = "application/vnd.apple.mpegurl" if path.suffix == ".m3u8" else "video/mp2t"
            backend.save_file(f"videos/{public_id}/hls/{path.name}", path, kind)
        video = Video(
            public_id=public_id,
            creator_id=creator.id,
            title="Tea time",
            state="ready",
            playable=True,
            duration_ms=10_000,
            width=240,
            height=426,
            master_key=f"videos/{public_id}/hls/index.m3u8",
            published_at=utcnow(),
        )
        video.pins.append(VideoPin(product_id=product.id, start_ms=0, end_ms=None))
        db.session.add(video)
        db.session.commit()
    return public_id


def pay_in_drawer(page, drawer) -> None:
    """Pay with the 4242 test card in the checkout drawer's pay frame; wait for the paid state.

    The pay page's own "succeeded" may be replaced at once by the drawer's paid state (the
    webhook can arrive within milliseconds), so only the drawer's state is awaited.
    """
    from playwright.sync_api import expect

    frame = page.frame_locator(".drawer-frame")
    frame.locator("input[name=card_number]").fill("4242 4242 4242 4242")
    frame.locator("button[type=submit].primary").click()
    expect(drawer.locator(".drawer-paid")).to_be_visible(timeout=20_000)


def log_in(page, base_url: str, email: str, next_path: str = "/") -> None:
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()


def test_buy_in_the_drawer_while_the_video_plays_then_the_merchant_ships(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    tmp_path,
    screenshots,
):
    from playwright.sync_api import expect

    creator = create_user(creator=True, name="Mia")
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    buyer = create_user(name="Bo")
    create_address(buyer)
    public_id = publish_video_with_pin(app, creator, product, tmp_path)

    viewer = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = viewer.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, buyer.email, f"/v/{public_id}")
    page.goto(f"{live_server.url}/v/{public_id}")
    player = page.locator("video.feed-video").first
    page.wait_for_function(
        "() => { const v = document.querySelector('video.feed-video');"
        " return v && v.currentTime > 0.3 && !v.paused; }",
        timeout=30_000,
    )
    card = page.locator(".pin-card:not([hidden])").first
    expect(card).to_contain_text("Jasmine tea", timeout=15_000)
    expect(card).to_contain_text("may earn a commission")

    card.locator(".pin-buy").click()
    drawer = page.locator("#checkout-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator(".drawer-product-title")).to_have_text("Jasmine tea")
    expect(drawer).to_contain_text("The creator may earn a commission")
    expect(drawer.locator(".drawer-total-value")).not_to_be_empty()
    before = player.evaluate("v => v.currentTime")
    page.wait_for_timeout(1200)
    after = player.evaluate("v => v.currentTime")
    assert after > before + 0.5 or after < before, (before, after)  # playing (or looped)
    assert player.evaluate("v => !v.paused")
    page.screenshot(path=str(screenshots / "checkout-drawer.png"))

    drawer.locator(".drawer-quantity").fill("2")
    drawer.locator(".drawer-pay").click()
    pay_in_drawer(page, drawer)
    expect(drawer.locator(".drawer-paid-text")).to_contain_text("Paid")
    assert player.evaluate("v => !v.paused"), "the video kept playing through checkout"
    page.screenshot(path=str(screenshots / "checkout-paid.png"))

    with app.app_context():
        order = db.session.query(Order).one()
        assert order.state == "paid" and order.total_minor == 5980
        assert order.lines[0].source_key == public_id and order.lines[0].creator_id == creator.id
        order_id = order.public_id

    seller = browser.new_context(viewport={"width": 1280, "height": 900})
    shop = seller.new_page()
    shop.on("pageerror", lambda error: errors.append(str(error)))
    log_in(shop, live_server.url, merchant.email, "/merchant/orders")
    shop.goto(f"{live_server.url}/orders/{order_id}")
    expect(shop.locator("#order-state")).to_have_text("To ship")
    shop.fill("#tracking-input", "SF1234567")
    shop.click("#ship-button")
    expect(shop.locator("#order-state")).to_have_text("Shipped", timeout=10_000)
    expect(shop.locator("#order-tracking")).to_have_text("SF1234567")
    # The buyer's order page follows live.
    page.goto(f"{live_server.url}/orders/{order_id}")
    expect(page.locator("#order-state")).to_have_text("Shipped")
    assert errors == []
    viewer.close()
    seller.close()

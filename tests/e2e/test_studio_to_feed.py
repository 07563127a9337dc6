"""A creator uploads, pins a product at 2 s and publishes; a viewer sees the card appear at 2 s."""

from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.videos.models import Video
from media.samples import generate_clip
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.ffmpeg]


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")


def test_upload_pin_publish_then_watch_the_card_appear(
    app, live_server, browser, create_user, create_product, tmp_path: Path, screenshots: Path
):
    from playwright.sync_api import expect

    creator = create_user(creator=True, name="Mia")
    product = create_product(create_user(merchant=True), title="Jasmine tea")
    clip = tmp_path / "tea-time.mp4"
    generate_clip(clip, duration_s=8, width=360, height=640, label="tea time")

    studio = browser.new_context(viewport={"width": 1280, "height": 900})
    page = studio.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server.url, creator.email)

    page.goto(f"{live_server.url}/studio")
    page.set_input_files("#upload-file", str(clip))
    page.click("#upload-start")
    # The upload done, the studio opens the new video's editor, which follows the processing.
    page.wait_for_url("**/studio/videos/*", timeout=60_000)
    expect(page.locator("#video-state")).to_have_attribute("data-state", "ready", timeout=90_000)
    page.goto(f"{live_server.url}/studio")
    row = page.locator(".video-row").first
    expect(row).to_have_attribute("data-state", "ready")
    page.screenshot(path=str(screenshots / "studio.png"))
    row.locator(".edit-link").click()
    page.wait_for_url("**/studio/videos/*")

    page.select_option("#pin-product", str(product.id))
    page.fill("#pin-start", "2")
    page.click("#pin-add")
    expect(page.locator("#pin-list .pin-row")).to_have_count(1)
    page.fill("#video-title", "Tea time")
    page.click("#video-save")
    expect(page.locator("#details-status")).not_to_be_empty()
    page.click("#publish")
    expect(page.locator("#publish-state")).to_have_class("badge publish-badge is-published")
    page.screenshot(path=str(screenshots / "editor.png"))
    with app.app_context():
        video = db.session.scalar(select(Video))
        assert video.is_published and video.title == "Tea time"
        assert [(p.product_id, p.start_ms, p.end_ms) for p in video.pins] == [
            (product.id, 2000, None)
        ]

    viewer = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    watch = viewer.new_page()
    watch.on("pageerror", lambda error: errors.append(str(error)))
    watch.goto(f"{live_server.url}/")
    player = watch.locator("video.feed-video").first
    card = watch.locator(".pin-card:not([hidden])")
    watch.wait_for_function(
        "() => { const v = document.querySelector('video.feed-video');"
        " return v && v.currentTime > 0.1 && !v.paused; }",
        timeout=30_000,
    )
    assert player.evaluate("v => v.currentTime") < 1.9
    assert card.count() == 0, "the card must not show before its pinned time"
    expect(card).to_be_visible(timeout=15_000)
    shown_at = player.evaluate("v => v.currentTime")
    assert 1.9 <= shown_at < 3.5, shown_at
    expect(card).to_contain_text("Jasmine tea")
    watch.screenshot(path=str(screenshots / "feed.png"))
    # A keyboard user sees which video has the focus: a ring drawn above the video.
    watch.keyboard.press("Tab")
    watch.focus("article.feed-item")
    watch.keyboard.press("ArrowDown")  # one video only: the focus stays on it
    ring = watch.evaluate(
        "() => { const item = document.activeElement;"
        " const ring = getComputedStyle(item.querySelector('.frame'), '::after');"
        " return [item.matches(':focus-visible'), ring.borderTopStyle, ring.zIndex]; }"
    )
    assert ring == [True, "solid", "30"], ring
    assert errors == []
    studio.close()
    viewer.close()

"""A delivered buyer writes a review with a photo in Chinese on a phone: it shows on the product
page (stars, words, photo, histogram) and on the pin card of a video featuring the product."""

from __future__ import annotations

import pytest

from tests.commerce.reviews.conftest import create_order, create_video  # noqa: F401  (fixtures)
from tests.conftest import png_bytes
from tests.e2e.test_checkout import log_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def test_a_buyer_reviews_with_a_photo_in_chinese_on_a_phone(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_order,  # noqa: F811
    create_video,  # noqa: F811
    tmp_path,
    screenshots,
):
    from playwright.sync_api import expect

    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea")
    creator = create_user(creator=True, name="Mia")
    video = create_video(creator, pins=(product.id,))
    buyer = create_user(name="Mei")
    order = create_order(buyer, product)
    photo = tmp_path / "cup.png"
    photo.write_bytes(png_bytes((400, 300), "green").getvalue())

    context = browser.new_context(viewport=PHONE, has_touch=True, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, buyer.email)
    page.goto(f"{live_server.url}/orders/{order['id']}")
    page.get_by_role("link", name="写评价").click()
    expect(page.locator("h1")).to_have_text("写评价")
    page.locator("label[for=stars-4]").click()
    page.locator("textarea[name=text]").fill("茶香很浓，包装完好 <b>推荐</b>")
    page.locator("input[name=photos]").set_input_files(str(photo))
    page.screenshot(path=str(screenshots / "review-write-phone-zh.png"), full_page=True)
    page.get_by_role("button", name="发布评价").click()

    # On the product page: the flash, the rating, the histogram and the review with its photo.
    page.wait_for_url(f"**/products/{product.id}#reviews")
    expect(page.locator(".flashes")).to_contain_text("你的评价已发布")
    reviews = page.locator("#reviews")
    expect(reviews.locator(".rating-average")).to_have_text("4.0")
    expect(reviews).to_contain_text("1 条评价")
    expect(reviews.locator(".review-text")).to_have_text("茶香很浓，包装完好 <b>推荐</b>")
    image = reviews.locator(".review-photos img").first
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots / "review-product-phone-zh.png"), full_page=True)

    # The pin card of a video featuring the product carries the rating in short.
    page.goto(f"{live_server.url}/v/{video}")
    card = page.locator(".pin-card:not([hidden])").first
    expect(card).to_contain_text("Jasmine tea", timeout=15_000)
    rating = card.locator(".pin-rating")
    expect(rating).to_have_text("★ 4.0 (1)")
    assert "1 位买家" in (rating.get_attribute("aria-label") or "")
    page.screenshot(path=str(screenshots / "review-pin-phone-zh.png"))

    # Back on the order, the line says the review is written.
    page.goto(f"{live_server.url}/orders/{order['id']}")
    expect(page.locator("[data-line-review]")).to_contain_text("我的评价")
    assert errors == []
    context.close()

"""Search in the browser: a Chinese word inside longer titles finds the video and the product
from the feed's search entry, an English word finds English titles from the Shop page, on a
phone and a desktop, in Chinese and in English, with nothing overflowing."""

from __future__ import annotations

import pytest

from tests.e2e.test_social_feed import publish

pytestmark = [pytest.mark.e2e]

VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) problems.push("horizontal overflow");
  for (const el of document.querySelectorAll(".search-tabs a, #search-q, .search-hit")) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 || r.left < -1) problems.push(el.className + " outside the window");
  }
  return problems;
}"""


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_search_finds_chinese_words_inside_titles_and_english_words(
    app, live_server, browser, create_user, create_product, screenshots, size, lang
):
    from playwright.sync_api import expect

    creator = create_user(creator=True, name="小美穿搭")
    merchant = create_user(merchant=True, name="花间小店")
    publish(app, creator, "夏季碎花连衣裙")
    publish(app, creator, "Summer linen shirt")
    product = create_product(merchant, title="碎花连衣裙 2026夏季新款", price_minor=15900)
    create_product(merchant, title="Linen trousers")
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=size == "phone", locale="en-US"
    )
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    zh = lang == "zh_Hans"

    # From the feed's top: the magnifier opens search; typing a word found inside a title.
    page.goto(f"{live_server.url}/")
    page.screenshot(path=str(screenshots / f"search-{size}-{lang}-feed.png"))
    page.locator("#feed-search").click()
    page.wait_for_url("**/search")
    page.locator("#search-q").fill("连衣裙")
    page.locator("#search-q").press("Enter")
    results = page.locator("#search-results .search-hit")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("夏季碎花连衣裙")
    expect(results.first).to_contain_text("小美穿搭")
    expect(page.locator(".search-tabs a[aria-current=page]")).to_have_text(
        "视频" if zh else "Videos"
    )
    assert page.evaluate(OVERFLOW) == []
    page.screenshot(path=str(screenshots / f"search-{size}-{lang}-videos.png"))

    # The Products tab keeps the words and shows the product, which opens its page.
    page.locator(".search-tabs a[data-kind=product]").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("碎花连衣裙 2026夏季新款")
    expect(results.first).to_contain_text("¥159.00")
    assert page.evaluate(OVERFLOW) == []
    results.first.click()
    page.wait_for_url(f"**/products/{product.id}")

    # The Shop page's box searches products; an English word finds English titles only.
    page.goto(f"{live_server.url}/products")
    page.locator("#shop-search input[name=q]").fill("linen")
    page.locator("#shop-search input[name=q]").press("Enter")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Linen trousers")
    page.locator(".search-tabs a[data-kind=video]").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Summer linen shirt")
    results.first.click()
    page.wait_for_url("**/v/*")

    # Nothing found says so, in the page's language.
    page.goto(f"{live_server.url}/search?q=旗袍&kind=creator")
    expect(page.locator("#search-empty")).to_contain_text("没有" if zh else "No results")
    assert page.evaluate(OVERFLOW) == []
    context.close()
    assert errors == []

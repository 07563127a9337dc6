"""A viewer follows a creator from the feed's rail, likes the video, finds it on the Following
tab, and the creator's page counts the follower; the rail fits phones and desktops in en and zh."""

from __future__ import annotations

import uuid

import pytest

from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoPin
from tests.e2e.test_checkout import log_in

pytestmark = [pytest.mark.e2e]

# Horizontal overflow, and rail controls that are not fully on screen.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) problems.push("horizontal overflow");
  const item = document.querySelector(".feed-item");
  for (const sel of [".feed-side-avatar", ".rail-follow", ".like-button", ".favourite-button",
                     ".share-button", ".products-button", ".mute-button", ".feed-tabs"]) {
    const el = (sel === ".feed-tabs" ? document : item).querySelector(sel);
    if (!el) { problems.push(sel + " missing"); continue; }
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > width || r.bottom > window.innerHeight)
      problems.push(sel + " outside the viewport " + JSON.stringify(r));
  }
  return problems;
}"""


def publish(app, creator, title: str, pins=()) -> str:
    public_id = uuid.uuid4().hex[:12]
    with app.app_context():
        video = Video(
            public_id=public_id,
            creator_id=creator.id,
            title=title,
            state="ready",
            playable=False,  # no media needed: the rail is what is tested
            published_at=utcnow(),
        )
        video.pins = [VideoPin(product_id=p, start_ms=0) for p in pins]
        db.session.add(video)
        db.session.commit()
    return public_id


def test_follow_from_the_rail_like_and_see_the_following_tab(
    app, live_server, browser, create_user, create_product, screenshots
):
    from playwright.sync_api import expect

    creator = create_user(creator=True, name="Mia")
    product = create_product(create_user(merchant=True), title="Jasmine tea")
    publish(app, creator, "Brewing jasmine", pins=(product.id,))
    viewer = create_user(name="Bo")

    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, viewer.email, "/")
    page.goto(f"{live_server.url}/")
    item = page.locator(".feed-item").first
    expect(item.locator(".video-title")).to_have_text("Brewing jasmine")
    expect(page.locator(".feed-tabs a[aria-current=page]")).to_have_text("For you")
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    expect(item.locator(".products-count")).to_have_text("1")
    assert item.locator(".rail-comments").count() == 1  # the comments slot is there, empty

    follow = item.locator(".rail-follow")
    expect(follow).to_have_attribute("aria-label", "Follow Mia")
    follow.click()
    expect(follow).to_have_attribute("aria-pressed", "true")
    like = item.locator(".like-button")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".like-count")).to_have_text("1")
    item.locator(".favourite-button").click()
    expect(item.locator(".favourite-count")).to_have_text("1")
    page.screenshot(path=str(screenshots / "social-rail-phone.png"))

    page.locator(".feed-tabs a", has_text="Following").click()
    expect(page.locator(".feed-tabs a[aria-current=page]")).to_have_text("Following")
    item = page.locator(".feed-item").first
    expect(item.locator(".video-title")).to_have_text("Brewing jasmine")
    expect(item.locator(".like-button")).to_have_attribute("aria-pressed", "true")

    page.goto(f"{live_server.url}/c/{creator.id}")
    expect(page.locator("[data-follower-count-for]")).to_have_text("1 follower")
    expect(page.locator(".follow-button")).to_have_text("Following")
    page.screenshot(path=str(screenshots / "social-creator-phone.png"))
    page.goto(f"{live_server.url}/me/favourites")
    expect(page.locator("#favourite-videos")).to_contain_text("Brewing jasmine")
    assert errors == []
    context.close()

    # Desktop, in Chinese: the rail fits, its labels are translated, the follow state kept.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": live_server.url}])
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, viewer.email, "/")
    page.goto(f"{live_server.url}/")
    item = page.locator(".feed-item").first
    expect(page.locator(".feed-tabs a[aria-current=page]")).to_have_text("推荐")
    expect(item.locator(".rail-follow")).to_have_attribute("aria-label", "取消关注 Mia")
    expect(item.locator(".like-button")).to_have_attribute("aria-label", "取消点赞（1 个赞）")
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=str(screenshots / "social-rail-desktop-zh.png"))
    item.locator(".rail-follow").click()  # unfollow
    expect(item.locator(".rail-follow")).to_have_attribute("aria-pressed", "false")
    page.goto(f"{live_server.url}/c/{creator.id}")
    expect(page.locator("[data-follower-count-for]")).to_have_text("0 位粉丝")
    assert errors == []
    context.close()


OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize(
    ("viewport", "lang"),
    [({"width": 390, "height": 844}, "en"), ({"width": 1366, "height": 900}, "zh_Hans")],
)
def test_social_pages_fit_phones_and_desktops(
    app, live_server, browser, create_user, create_product, viewport, lang
):
    from playwright.sync_api import expect

    shop = create_user(creator=True, merchant=True, name="Jasmine House of Very Long Names Ltd")
    product = create_product(shop, title="Jasmine tea")
    publish(app, shop, "Brewing jasmine", pins=(product.id,))
    viewer = create_user(name="Bo")
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    page = context.new_page()
    log_in(page, live_server.url, viewer.email, "/")
    page.goto(f"{live_server.url}/shop/{shop.id}")
    page.locator(".follow-button").click()
    expect(page.locator(".follow-button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-follower-count-for]")).to_contain_text("1")
    page.goto(f"{live_server.url}/")
    page.locator(".feed-item .favourite-button").first.click()
    expect(page.locator(".feed-item .favourite-count").first).to_have_text("1")
    for path in (f"/c/{shop.id}", f"/shop/{shop.id}", "/me/following", "/me/favourites", "/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(OVERFLOW) <= 1, (path, viewport)
        if path.startswith("/me/"):
            assert "Jasmine" in page.locator("main").inner_text(), path
    context.close()

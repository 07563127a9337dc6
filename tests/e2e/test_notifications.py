"""A follower opts in to e-mail on the settings page; a creator goes live and the follower's Inbox
badge appears without a reload, on the phone's tab bar and the desktop's top bar, the inbox lists
the notice and the e-mail reaches a real SMTP server; the inbox and settings pages fit 390×844
and 1366×900 in both languages."""

from __future__ import annotations

import pytest

from commerce.extensions import db
from commerce.live.models import LiveRoom
from commerce.social.models import Follow
from tests.e2e.test_checkout import log_in
from tests.smtp_server import smtp_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e]

OVERFLOW = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"


def test_go_live_badge_appears_without_reload_the_inbox_lists_it_and_the_email_arrives(
    app,
    live_server,
    browser,
    create_user,
    make_api,
    screenshots,
    smtp_server,  # noqa: F811
):
    from playwright.sync_api import expect

    mailbox, mail = smtp_server
    app.config.update(mail, PUBLIC_URL=live_server.url)

    creator = create_user(creator=True, name="Mia")
    fan = create_user(name="Bo")
    with app.app_context():
        db.session.add(Follow(follower_id=fan.id, followee_id=creator.id))
        room = LiveRoom(public_id="roomnotify01", creator_id=creator.id, title="Jasmine live")
        db.session.add(room)
        db.session.commit()

    pages = {}
    for size, viewport in {"phone": (390, 844), "desktop": (1366, 900)}.items():
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        log_in(page, live_server.url, fan.email, "/me")
        page.goto(f"{live_server.url}/me")
        pages[size] = page
    # E-mail is off until the follower consents on the settings page and turns on "live".
    settings = pages["desktop"]
    settings.goto(f"{live_server.url}/me/notifications")
    settings.check("#email-consent")
    settings.check("#pref-live-email")
    settings.click("main button.primary")
    expect(settings.locator("#pref-live-email")).to_be_checked()
    expect(settings.locator("#email-consent")).to_be_checked()
    settings.goto(f"{live_server.url}/me")

    phone_badge = pages["phone"].locator(".tabbar .tab-inbox [data-inbox-badge]")
    desktop_badge = pages["desktop"].locator(".topnav [data-inbox-badge]")
    expect(phone_badge).to_be_hidden()
    expect(desktop_badge).to_be_hidden()
    pages["phone"].wait_for_timeout(500)  # the socket is connected

    started = make_api(creator).post("/api/v1/live/rooms/roomnotify01/start")
    assert started.status_code == 200
    expect(phone_badge).to_be_visible(timeout=20000)
    expect(phone_badge).to_have_text("1")
    expect(desktop_badge).to_have_text("1", timeout=20000)
    pages["phone"].screenshot(path=str(screenshots / "inbox-badge-phone.png"))
    (message,) = mailbox.wait(1)
    assert message["To"] == fan.email
    assert "Mia" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"{live_server.url}/" in message["List-Unsubscribe"]

    phone = pages["phone"]
    phone.locator(".tabbar .tab-inbox").click()
    phone.wait_for_load_state()
    item = phone.locator(".inbox-item").first
    expect(item).to_contain_text("Mia is live now: Jasmine live")
    expect(item).to_have_class("inbox-item unread")
    assert phone.evaluate(OVERFLOW) is False
    phone.screenshot(path=str(screenshots / "inbox-phone.png"))
    item.locator(".inbox-link").click()
    phone.wait_for_url(f"{live_server.url}/live/roomnotify01")
    expect(phone.locator(".tabbar .tab-inbox [data-inbox-badge]")).to_be_hidden()
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_inbox_and_settings_fit_both_viewports(
    app, live_server, browser, create_user, screenshots, lang
):
    user = create_user(name="Bo")
    for width, height in ((390, 844), (1366, 900)):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
        page = context.new_page()
        log_in(page, live_server.url, user.email, "/inbox")
        for path in ("/inbox", "/me/notifications"):
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate(OVERFLOW) is False, (path, width, lang)
            save = page.locator("main .primary").first
            box = save.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
            name = f"{path.strip('/').replace('/', '-')}-{width}-{lang}.png"
            page.screenshot(path=str(screenshots / name), full_page=True)
        context.close()

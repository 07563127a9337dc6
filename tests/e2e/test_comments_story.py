"""A viewer comments, another replies with a mention, the creator deletes the reply, a viewer
reports a comment, an admin hides it and the audit log shows it: in Chromium, at the phone and
desktop sizes, in English and Chinese."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos.models import Video
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
XSS = '<img src=x onerror="window.__xss=1">'


def _context(browser, viewport, locale="en-US"):
    return browser.new_context(viewport=viewport, locale=locale, has_touch=viewport == PHONE)


def _log_in(context, base_url: str, email: str):
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")
    return page


def _open_sheet(page, base_url: str, video: str):
    page.goto(f"{base_url}/v/{video}")
    page.locator(f'.feed-item[data-video-id="{video}"] .comments-button').click()
    sheet = page.locator("#comments-sheet")
    sheet.wait_for(state="visible")
    return sheet


def _fits(page) -> None:
    """No sideways scrolling, and the sheet's controls inside the viewport."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width
    box = page.locator("#comments-sheet").bounding_box()
    assert box is not None and box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"] + 1
    assert box["y"] + box["height"] <= page.viewport_size["height"] + 1


def test_comment_reply_delete_report_hide(
    app, live_server, browser, create_user, screenshots: Path
):
    from playwright.sync_api import expect

    base = live_server.url
    creator = create_user(creator=True, name="Mia")
    ann, bob, carol = create_user(name="Ann"), create_user(name="Bob"), create_user(name="Carol")
    admin = create_user(name="Root")
    video = uuid.uuid4().hex[:12]
    with app.app_context():
        db.session.get(User, admin.id).is_admin = True
        db.session.add(
            Video(
                public_id=video,
                creator_id=creator.id,
                title="Tea time",
                state="ready",
                playable=True,
                published_at=utcnow(),
            )
        )
        db.session.commit()

    # Ann, on a phone, comments twice (once with markup that must stay text).
    page = _log_in(_context(browser, PHONE), base, ann.email)
    sheet = _open_sheet(page, base, video)
    _fits(page)
    for text in ("Lovely tea!", XSS):
        page.fill("#comments-input", text)
        page.click(".comments-send")
        expect(sheet.locator(".comment-text", has_text=text)).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert sheet.locator(".comment-text img").count() == 0
    expect(page.locator(f'.feed-item[data-video-id="{video}"] .comments-count')).to_have_text("2")
    page.screenshot(path=str(screenshots / "comments-phone-en.png"))

    # Bob, on a desktop in Chinese, answers Ann: the reply mentions her and links to her page.
    page = _log_in(_context(browser, DESKTOP, "zh-CN"), base, bob.email)
    sheet = _open_sheet(page, base, video)
    _fits(page)
    first = sheet.locator(".comment", has_text="Lovely tea!")
    first.locator(".comment-reply").first.click()
    expect(page.locator("#comments-input")).to_have_value("@Ann ")
    page.locator("#comments-input").press("End")
    page.locator("#comments-input").type("欢迎")
    page.click(".comments-send")
    reply = first.locator(".comment-replies .comment")
    expect(reply).to_have_count(1)
    mention = reply.locator("a.mention")
    expect(mention).to_have_text("@Ann")
    assert mention.get_attribute("href") == f"/c/{ann.id}"
    expect(sheet.locator(".comments-title")).to_contain_text("条评论")
    page.screenshot(path=str(screenshots / "comments-desktop-zh.png"))

    # Mia, the creator, deletes Bob's reply: the thread keeps a "comment deleted" line.
    page = _log_in(_context(browser, DESKTOP), base, creator.email)
    sheet = _open_sheet(page, base, video)
    first = sheet.locator(".comment", has_text="Lovely tea!")
    first.locator(".comment-view-replies").click()
    page.once("dialog", lambda dialog: dialog.accept())
    first.locator(".comment-replies .comment-delete").click()
    expect(first.locator(".comment-replies .comment-removed")).to_have_text("Comment deleted")

    # Carol, on a phone, reports Ann's comment.
    page = _log_in(_context(browser, PHONE), base, carol.email)
    sheet = _open_sheet(page, base, video)
    sheet.locator(".comment", has_text="Lovely tea!").locator(".comment-report").first.click()
    page.select_option("#report-form select[name=reason]", "harassment")
    page.fill("#report-form textarea[name=text]", "rude to me")
    page.click("#report-form .report-send")
    expect(page.locator("#comments-error")).to_contain_text("admin will review")

    # Root, the admin, hides it from the console, at the phone size, and the log says so.
    console = _log_in(_context(browser, PHONE), base, admin.email)
    console.goto(f"{base}/admin/reports")
    report = console.locator(".report", has_text="Lovely tea!")
    expect(report).to_contain_text("Harassment or bullying")
    report.locator("input[name=reason]").fill("harassment confirmed")
    report.locator("button[value=hide]").click()
    entry = console.locator("#audit-log .audit-entry").first
    expect(entry).to_contain_text("Comment hidden")
    expect(entry).to_contain_text("harassment confirmed")
    expect(entry).to_contain_text("Root")
    assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.screenshot(path=str(screenshots / "reports-console-phone.png"), full_page=True)

    # Everyone now sees the placeholder in its place.
    page.reload()
    page.locator(f'.feed-item[data-video-id="{video}"] .comments-button').click()
    expect(page.locator(".comment-removed").first).to_have_text("Comment hidden by a moderator")


def test_report_a_user_and_a_live_room_from_their_pages(
    app, live_server, browser, create_user, screenshots: Path
):
    from playwright.sync_api import expect

    from commerce.live.models import LiveRoom
    from commerce.moderation.models import Report

    base = live_server.url
    creator, viewer = create_user(creator=True, name="Mia"), create_user(name="Carol")
    with app.app_context():
        db.session.add(LiveRoom(public_id="room0001", creator_id=creator.id, title="Tea show"))
        db.session.commit()

    page = _log_in(_context(browser, DESKTOP), base, viewer.email)
    page.goto(f"{base}/c/{creator.id}")
    page.click(".report-button[data-target-type=user]")
    page.select_option("#report-form select[name=reason]", "fraud")
    page.click("#report-form .report-send")
    expect(page.locator("#report-done")).to_be_visible()

    page = _log_in(_context(browser, PHONE), base, viewer.email)
    page.goto(f"{base}/live/room0001")
    page.click(".report-button[data-target-type=room]")
    page.fill("#report-form textarea[name=text]", "selling fakes")
    page.click("#report-form .report-send")
    expect(page.locator("#report-done")).to_be_visible()
    page.screenshot(path=str(screenshots / "report-room-phone.png"))
    page.click(".report-button[data-target-type=room]")
    page.click("#report-form .report-send")  # a second open report on the same room
    expect(page.locator("#report-form .report-error")).to_contain_text("already reported")

    with app.app_context():
        made = {
            (r.target_type, r.target_key, r.reason) for r in db.session.scalars(db.select(Report))
        }
    assert made == {("user", str(creator.id), "fraud"), ("room", "room0001", "spam")}

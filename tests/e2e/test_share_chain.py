"""A shares a video, B opens the link and re-shares, C opens B's link and signs up: C <- B <- A."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.attribution.crediting import share_ancestry, winning_click
from commerce.attribution.models import Share, ShareClick
from commerce.extensions import db
from commerce.timeutil import utcnow
from commerce.videos.models import Video
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e]


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")


def _share_from_watch_page(page, base_url: str, public_id: str, shot: Path) -> str:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/v/{public_id}")
    button = page.locator(f'.feed-item[data-video-id="{public_id}"] .share-button')
    expect(button).to_be_visible(timeout=10_000)
    button.click()
    link = page.locator("#share-link")
    expect(link).to_be_visible(timeout=10_000)
    expect(page.locator("#share-dialog .share-qr")).to_be_visible()
    page.click("#share-dialog .share-copy")
    expect(page.locator("#share-dialog .share-copied")).not_to_be_empty()
    url = link.input_value()
    assert "/s/" in url
    page.screenshot(path=str(shot))
    page.click("#share-dialog button[type=submit]")
    return url


def test_share_reshare_then_sign_up_keeps_the_chain(
    app, live_server, browser, create_user, screenshots: Path
):
    creator = create_user(creator=True, name="Mia")
    a, b = create_user(name="Ann"), create_user(name="Bob")
    with app.app_context():
        video = Video(
            public_id="tea123",
            creator_id=creator.id,
            title="Tea time",
            playable=True,
            published_at=utcnow(),
        )
        db.session.add(video)
        db.session.commit()
    errors: list[str] = []

    context_a = browser.new_context(viewport={"width": 390, "height": 844})
    page_a = context_a.new_page()
    page_a.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page_a, live_server.url, a.email)
    link_a = _share_from_watch_page(page_a, live_server.url, "tea123", screenshots / "share-a.png")

    context_b = browser.new_context(viewport={"width": 390, "height": 844})
    page_b = context_b.new_page()
    page_b.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page_b, live_server.url, b.email)
    page_b.goto(link_a)
    page_b.wait_for_url(f"{live_server.url}/v/tea123")
    assert "Ann" in page_b.locator(".flashes").inner_text()  # the commission disclosure
    page_b.screenshot(path=str(screenshots / "arrived-b.png"))
    link_b = _share_from_watch_page(page_b, live_server.url, "tea123", screenshots / "share-b.png")
    assert link_b != link_a

    context_c = browser.new_context(viewport={"width": 390, "height": 844})
    page_c = context_c.new_page()
    page_c.goto(link_b)
    page_c.wait_for_url(f"{live_server.url}/v/tea123")
    page_c.goto(f"{live_server.url}/signup")
    page_c.fill("input[name=email]", "cat@example.com")
    page_c.fill("input[name=display_name]", "Cat")
    page_c.fill("input[name=password]", PASSWORD)
    page_c.click("form button[type=submit].primary")
    page_c.wait_for_url(f"{live_server.url}/")

    with app.app_context():
        cat = db.session.scalar(select(User).where(User.email == "cat@example.com"))
        share_a = db.session.scalar(select(Share).where(Share.sharer_id == a.id))
        share_b = db.session.scalar(select(Share).where(Share.sharer_id == b.id))
        assert share_a.parent_id is None and share_a.depth == 0
        assert share_b.parent_id == share_a.id and share_b.depth == 1
        [click_c] = db.session.scalars(select(ShareClick).where(ShareClick.user_id == cat.id))
        assert click_c.share_id == share_b.id
        # What crediting will find when Cat pays, from the account alone: Cat <- Bob <- Ann.
        click = winning_click(
            db.session,
            buyer_id=cat.id,
            device_id=None,
            targets=[("video", "tea123")],
            now=utcnow(),
            window_days=app.config["ATTRIBUTION_WINDOW_DAYS"],
        )
        assert click is not None
        assert [s.sharer_id for s in share_ancestry(db.session, click.share)] == [b.id, a.id]
    page_a.goto(f"{live_server.url}/earnings")
    page_a.screenshot(path=str(screenshots / "earnings-a.png"), full_page=True)
    assert page_a.locator(".tree .tree .tree-name").inner_text() == "Bob"
    share_errors = [e for e in errors if "share" in e.lower()]
    assert share_errors == []
    for context in (context_a, context_b, context_c):
        context.close()

"""In Chromium: a sharer copies her invite link on Invite friends; a new visitor opens it, reads
who invited them and the rules, signs up, sees the welcome coupon, buys with it; the order is
delivered and after the (short) return window the app's own job rewards the sharer, which her
Invite friends page shows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.invites import programme, services
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def short_window(app):
    """Set before live_server starts its workers: a 4 s return window, the job every second."""
    app.config.update(INVITE_HOLD_SECONDS=4.0, INVITE_REWARD_EVERY_SECONDS=1.0)
    with app.app_context():
        programme.do_ensure_programme(db.session, programme.Amounts(), utcnow())
        db.session.commit()


def test_invite_link_sign_up_welcome_coupon_buy_then_the_sharer_is_rewarded(
    app, short_window, live_server, browser, create_user, create_product, make_api, screenshots,
    create_address,  # noqa: F811
):  # fmt: skip
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=5000, stock=5)
    ann = create_user(name="Ann")
    errors: list[str] = []

    def new_page(width: int = 390, height: int = 844):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    sharer = new_page()
    log_in(sharer, base, ann.email, "/me/invites")
    expect(sharer.locator("h1")).to_have_text("Invite friends")
    expect(sharer.locator(".invite-rules")).to_contain_text("Rewards are coupons, never cash")
    sharer.click(".invite-share-button")
    link = sharer.locator("#share-link")
    expect(link).to_be_visible(timeout=10_000)
    url = link.input_value()
    assert "/s/" in url
    sharer.screenshot(path=str(screenshots / "invites-share.png"))

    visitor = new_page()
    visitor.goto(url)
    visitor.wait_for_url(f"{base}/invite")
    expect(visitor.locator("#invite-offer")).to_contain_text("Ann invited you.")
    expect(visitor.locator("#invite-offer")).to_contain_text("¥10.00 off on orders over ¥30.00")
    expect(visitor.locator(".invite-rules")).to_contain_text("first order")
    visitor.screenshot(path=str(screenshots / "invites-landing.png"))
    visitor.click("#invite-offer a.primary")
    expect(visitor.locator("#invite-signup-offer")).to_contain_text("Ann invited you")
    visitor.fill("input[name=email]", "bo@example.com")
    visitor.fill("input[name=display_name]", "Bo")
    visitor.fill("input[name=password]", PASSWORD)
    visitor.click("main form button[type=submit].primary")
    visitor.wait_for_url(f"{base}/me/invites")
    expect(visitor.locator(".flashes")).to_contain_text("your welcome coupon")
    expect(visitor.locator("#invite-welcome")).to_contain_text(
        "Your welcome coupon: ¥10.00 off on orders over ¥30.00"
    )
    visitor.screenshot(path=str(screenshots / "invites-welcome.png"))
    visitor.click("#invite-welcome a[href$='/me/coupons']")
    expect(visitor.locator("#my-coupons")).to_contain_text("¥10.00 off")

    with app.app_context():
        bo = db.session.scalar(select(User).where(User.email == "bo@example.com"))
        db.session.expunge(bo)
    create_address(bo)
    visitor.goto(f"{base}/products/{product.id}")
    visitor.click(f"[data-checkout-product='{product.id}']")
    drawer = visitor.locator("#checkout-drawer")
    expect(drawer.locator(".drawer-total-value")).to_have_text("¥40.00", timeout=10_000)
    drawer.locator(".drawer-pay").click()
    pay_in_drawer(visitor, drawer)

    with app.app_context():
        order_id = services.open_invitation(db.session, bo.id).first_order_id
        assert order_id is not None
        public_id = db.session.get(Order, order_id).public_id
    sharer.reload()
    expect(sharer.locator(".invite-item")).to_have_attribute("data-shown", "ordered")
    expect(sharer.locator(".invite-item")).to_contain_text("Bo")
    seller = make_api(merchant)
    assert (
        seller.post(f"/api/v1/orders/{public_id}/ship", {"tracking_number": "SF1"}).status_code
        == 200
    )
    assert seller.post(f"/api/v1/orders/{public_id}/deliver").status_code == 200
    sharer.reload()
    expect(sharer.locator(".invite-item")).to_have_attribute("data-shown", "reward_on")
    expect(sharer.locator(".invite-item time")).to_have_count(1)
    for _ in range(40):
        if sharer.locator('.invite-item[data-shown="rewarded"]').count():
            break
        sharer.wait_for_timeout(500)
        sharer.reload()
    expect(sharer.locator(".invite-item")).to_have_attribute("data-shown", "rewarded")
    expect(sharer.locator(".invite-item")).to_contain_text("Rewarded")
    sharer.screenshot(path=str(screenshots / "invites-rewarded.png"))
    sharer.goto(f"{base}/me/coupons")
    expect(sharer.locator("#my-coupons")).to_contain_text("Invite reward")

    desktop = new_page(1366, 900)
    log_in(desktop, base, ann.email, "/me/invites")
    expect(desktop.locator(".invite-item")).to_have_attribute("data-shown", "rewarded")
    desktop.screenshot(path=str(screenshots / "invites-desktop.png"))
    assert errors == []

"""In Chromium: a viewer opens a group from the product page, pays in the sandbox and copies the
group's share link; a second viewer opens the link, joins and pays; the group succeeds and the
merchant ships both orders (refused while the group was filling)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.groups import campaign_with_buyers, pay_on_sandbox, wait_for_state
from tests.e2e.test_checkout import log_in

pytestmark = [pytest.mark.e2e]


def test_open_share_join_pay_then_the_merchant_ships_both(
    app, live_server, browser, create_user, create_product, make_api, screenshots,
    create_address,  # noqa: F811
):  # fmt: skip
    from playwright.sync_api import expect

    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    ann, bo = campaign_with_buyers(
        make_api, create_user, create_address, merchant, product, "Ann", "Bo"
    )
    errors: list[str] = []

    def new_page(width: int = 390):
        context = browser.new_context(viewport={"width": width, "height": 844})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    leader = new_page()
    log_in(leader, base, ann.email)
    leader.goto(f"{base}/products/{product.id}")
    expect(leader.locator(".group-offer")).to_contain_text("¥19.90")
    leader.click(".group-open")
    pay_on_sandbox(leader, base)
    wait_for_state(leader, "open")
    expect(leader.locator(".group-members")).to_contain_text("Ann")
    leader.click(".share-button")
    link = leader.locator("#share-link")
    expect(link).to_be_visible(timeout=10_000)
    leader.click("#share-dialog .share-copy")
    expect(leader.locator("#share-dialog .share-copied")).not_to_be_empty()
    url = link.input_value()
    assert "/s/" in url
    leader.screenshot(path=str(screenshots / "group-share.png"))

    with app.app_context():
        ann_order = db.session.scalar(select(Order).where(Order.buyer_id == ann.id))
        assert ann_order.ship_hold == "group"
        ann_order_id = ann_order.public_id
    shop = new_page(1280)
    log_in(shop, base, merchant.email, "/merchant/orders")
    expect(shop.locator("main")).to_contain_text("Waiting for the group")

    member = new_page()
    log_in(member, base, bo.email)
    member.goto(url)
    member.wait_for_url(f"{base}/groups/**")
    expect(member.locator(".group-join")).to_be_visible()
    member.click(".group-join")
    pay_on_sandbox(member, base)
    wait_for_state(member, "succeeded")
    member.screenshot(path=str(screenshots / "group-succeeded.png"))

    with app.app_context():
        bo_order = db.session.scalar(select(Order).where(Order.buyer_id == bo.id))
        assert bo_order.lines[0].chain == [ann.id]  # the leader's link credits her
        bo_order_id = bo_order.public_id
    for order_id in (ann_order_id, bo_order_id):
        shop.goto(f"{base}/orders/{order_id}")
        expect(shop.locator("#order-state")).to_have_text("To ship")
        shop.fill("#tracking-input", "SF1234567")
        shop.click("#ship-button")
        expect(shop.locator("#order-state")).to_have_text("Shipped", timeout=10_000)
    assert errors == []


def test_open_a_group_from_the_checkout_drawer_of_a_video_pin(
    app, live_server, browser, create_user, create_product, make_api, tmp_path, screenshots,
    create_address,  # noqa: F811
):  # fmt: skip
    """The drawer the feed, live rooms and the product page share offers the group beside Pay."""
    from playwright.sync_api import expect

    from commerce.groupbuy.models import GroupSeat
    from tests.e2e.test_checkout import pay_in_drawer, publish_video_with_pin

    base = live_server.url
    creator = create_user(creator=True, name="Mia")
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    [viewer] = campaign_with_buyers(
        make_api, create_user, create_address, merchant, product, "Bo", group_size=3
    )
    public_id = publish_video_with_pin(app, creator, product, tmp_path)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, viewer.email)
    page.goto(f"{base}/v/{public_id}")
    card = page.locator(".pin-card:not([hidden])").first
    expect(card).to_contain_text("Jasmine tea", timeout=20_000)
    card.locator(".pin-buy").click()
    drawer = page.locator("#checkout-drawer")
    expect(drawer.locator(".drawer-group")).to_be_visible()
    expect(drawer.locator(".drawer-group-price")).to_have_text("¥19.90")
    page.screenshot(path=str(screenshots / "drawer-group.png"))
    drawer.locator(".drawer-group-open").click()
    pay_in_drawer(page, drawer)
    expect(drawer.locator(".drawer-group-link")).to_be_visible()
    with app.app_context():
        seat = db.session.scalar(select(GroupSeat))
        order = db.session.get(Order, seat.order_id)
        assert (seat.role, seat.state) == ("leader", "paid")
        assert order.total_minor == 1990 and order.lines[0].source_key == public_id
    assert errors == []


def test_a_group_that_expires_refunds_its_member_by_itself(
    app, live_server, browser, create_user, create_product, make_api, screenshots,
    create_address,  # noqa: F811
):  # fmt: skip
    """Nobody joins: when the window ends, the served app's own periodic job refunds the
    leader in full, and her pages say so (no click of hers, no operator)."""
    from datetime import timedelta

    from playwright.sync_api import expect
    from sqlalchemy import update

    from commerce.groupbuy.models import Group
    from commerce.timeutil import utcnow

    app.config["GROUP_EXPIRY_SECONDS"] = 1
    base = live_server.url
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, title="Oolong", price_minor=2990, stock=5)
    [ann] = campaign_with_buyers(
        make_api, create_user, create_address, merchant, product, "Ann", group_size=3
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, ann.email)
    page.goto(f"{base}/products/{product.id}")
    page.click(".group-open")
    pay_on_sandbox(page, base)
    wait_for_state(page, "open")
    group_url = page.url
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.buyer_id == ann.id))
        assert order.state == "paid"
        order_id = order.public_id
        # The window ends with two seats empty.
        db.session.execute(
            update(Group)
            .where(Group.leader_id == ann.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    page.goto(f"{base}/orders/{order_id}")
    for _ in range(60):  # the job runs about every second here (20 s by default)
        if page.locator("#order-state").inner_text().strip() == "Refunded":
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#order-state")).to_have_text("Refunded")
    with app.app_context():
        refunded = db.session.scalar(select(Order).where(Order.public_id == order_id))
        assert refunded.refunded_minor == refunded.total_minor == 1990
    page.goto(group_url)
    expect(page.locator('.group-state[data-state="failed"]')).to_be_visible()
    expect(page.locator("main")).to_contain_text("every member is refunded in full")
    page.goto(f"{base}/me/groups")
    expect(page.locator("main")).to_contain_text("Refunded in full.")
    page.screenshot(path=str(screenshots / "group-expired-refunded.png"))
    assert errors == []

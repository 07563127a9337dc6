"""In Chromium, from a LIVE ROOM: the host pins a product that has a group campaign; viewer A
opens a group from the room's pin card (the checkout drawer), pays in the sandbox, opens her
group from the drawer and copies its signed share link; viewer B, in another browser, opens the
link, lands on the group, joins and pays; the group succeeds and the merchant ships both orders
from the order pages. The leader's order is credited to the live room; B's to A's link."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.groupbuy.models import Group, GroupSeat
from commerce.orders.models import Order
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.e2e.groups import pay_on_sandbox, wait_for_state
from tests.e2e.test_checkout import log_in, pay_in_drawer

pytestmark = [pytest.mark.e2e]


def test_a_group_opened_from_a_live_room_pin_is_shared_joined_and_shipped(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    screenshots,
):
    from playwright.sync_api import expect

    base = live_server.url
    host = create_user(creator=True, name="Mia")
    merchant = create_user(merchant=True, name="Tea House")
    tea = create_product(merchant, title="Jasmine tea", price_minor=2990, stock=5)
    ann, bo = create_user(name="Ann"), create_user(name="Bo")
    create_address(ann)
    create_address(bo)

    shop = live_server.login(merchant.email)
    token = shop.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    made = shop.post(
        f"{base}/api/v1/products/{tea.id}/group-campaigns",
        json={"price_minor": 1990, "group_size": 2, "window_minutes": 60},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    http = live_server.login(host.email)
    headers = {"X-CSRFToken": http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]}
    room = http.post(
        f"{base}/api/v1/live/rooms",
        json={"title": "Tea live", "featured_product_ids": [tea.id]},
        headers=headers,
        timeout=10,
    )
    room_id = room.json()["id"]
    started = http.post(f"{base}/api/v1/live/rooms/{room_id}/start", headers=headers, timeout=10)
    assert started.status_code == 200, started.text

    errors: list[str] = []
    contexts = []

    def new_page(width: int = 390, height: int = 844, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    try:
        leader = new_page(has_touch=True, is_mobile=True)
        log_in(leader, base, ann.email)
        leader.goto(f"{base}/live/{room_id}")

        # The host pins the product from her control page; the room hears of it live.
        control = new_page(1366, 900)
        log_in(control, base, host.email)
        control.goto(f"{base}/studio/live/{room_id}")
        control.click(f'#control-shelf [data-product-id="{tea.id}"] .shelf-pin')
        pin = leader.locator("#live-pins .pin-card").first
        expect(pin).to_contain_text("Jasmine tea", timeout=10_000)

        # A opens a group from the pin: the drawer offers it beside Pay, the rules first.
        pin.locator(".pin-buy").tap()
        drawer = leader.locator("#checkout-drawer")
        expect(drawer.locator(".drawer-group")).to_be_visible(timeout=10_000)
        expect(drawer.locator(".drawer-group-price")).to_have_text("¥19.90")
        expect(drawer.locator(".drawer-group-rules li").first).to_be_attached()
        leader.screenshot(path=str(screenshots / "live-group-drawer.png"))
        drawer.locator(".drawer-group-open").tap()
        pay_in_drawer(leader, drawer)
        group_link = drawer.locator(".drawer-group-link")
        expect(group_link).to_be_visible()
        group_link.tap()
        leader.wait_for_url(f"{base}/groups/**")
        wait_for_state(leader, "open")
        expect(leader.locator(".group-members")).to_contain_text("Ann")

        # The share sheet makes the signed link that carries the group and A's credit.
        leader.click(".share-button")
        link = leader.locator("#share-link")
        expect(link).to_be_visible(timeout=10_000)
        leader.click("#share-dialog .share-copy")
        expect(leader.locator("#share-dialog .share-copied")).not_to_be_empty()
        url = link.input_value()
        assert "/s/" in url
        leader.screenshot(path=str(screenshots / "live-group-share.png"))

        with app.app_context():
            ann_order = db.session.scalar(select(Order).where(Order.buyer_id == ann.id))
            line = ann_order.lines[0]
            assert (line.source_kind, line.source_key, line.creator_id) == (
                "live",
                room_id,
                host.id,
            )
            assert (ann_order.total_minor, ann_order.ship_hold) == (1990, "group")
            ann_order_id = ann_order.public_id
            db.session.remove()

        # The merchant cannot ship while the group fills.
        seller = new_page(1280, 900)
        log_in(seller, base, merchant.email)
        seller.goto(f"{base}/orders/{ann_order_id}")
        expect(seller.locator("main")).to_contain_text("Waiting for the group")

        # B, in another browser, follows the link: it lands on the group; joins and pays.
        member = new_page()
        log_in(member, base, bo.email)
        member.goto(url)
        member.wait_for_url(f"{base}/groups/**")
        expect(member.locator(".group-members")).to_contain_text("Ann")
        member.click(".group-join")
        pay_on_sandbox(member, base)
        wait_for_state(member, "succeeded")
        member.screenshot(path=str(screenshots / "live-group-succeeded.png"))

        with app.app_context():
            group = db.session.scalar(select(Group))
            assert (group.state, group.paid) == ("succeeded", 2)
            seats = db.session.scalars(select(GroupSeat).order_by(GroupSeat.id)).all()
            assert [(s.user_id, s.role, s.state) for s in seats] == [
                (ann.id, "leader", "paid"),
                (bo.id, "member", "paid"),
            ]
            bo_order = db.session.scalar(select(Order).where(Order.buyer_id == bo.id))
            assert bo_order.lines[0].chain == [ann.id]  # the leader's link credits her
            assert bo_order.total_minor == 1990
            bo_order_id = bo_order.public_id
            db.session.remove()

        for order_id in (ann_order_id, bo_order_id):
            seller.goto(f"{base}/orders/{order_id}")
            expect(seller.locator("#order-state")).to_have_text("To ship")
            seller.fill("#tracking-input", "SF1234567")
            seller.click("#ship-button")
            expect(seller.locator("#order-state")).to_have_text("Shipped", timeout=10_000)
        with app.app_context():
            shipped = db.session.scalars(select(Order.state).order_by(Order.id)).all()
            assert shipped == ["shipped", "shipped"]
            db.session.remove()
    finally:
        for context in contexts:
            context.close()
    assert errors == []

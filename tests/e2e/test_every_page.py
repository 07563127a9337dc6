"""A walk through every page at a phone's and a laptop's size in English and Chinese, each as the
role that can open it. It fails on horizontal overflow, on an important control (a tab, a top bar
link, a primary, pay or buy button) outside the window, and on English left on a Chinese page.
The pages come from the app's routes: a new page fails here until it is walked or excused."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.coupons.conftest import template_body
from tests.commerce.orders.conftest import create_address, create_video  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD, png_bytes

pytestmark = [pytest.mark.e2e]

CATALOG = Path(__file__).resolve().parents[2] / "translations/zh_Hans/LC_MESSAGES/messages.po"
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}

# Routes that are not pages: media, streams, redirects, one-shot links.
NOT_PAGES = {
    "static",
    "files.media",
    "accounts.switch_language",
    "live_media.flv_socket",
    "live_media.flv",
    "live_media.hls",
    "live_media.ingest_socket",
    "attribution.share_landing",  # a share link: records the visit, then redirects
    "pwa.manifest",
    "pwa.service_worker",
    "notifications.open_item",  # marks the notification read, then redirects to its target
}

# What stays English on a Chinese page on purpose: the language switch, brand-free codes.
ALLOWED_ENGLISH = {"English"}

CHECKS = (Path(__file__).parent / "page_checks.js").read_text()

# Tab bar items, the desktop top bar's links, and the buttons a page is for.
IMPORTANT = {
    "phone": ".tabbar .tab, main .primary, .pin-buy, #buy-button, #pay-link, .drawer-pay",
    "desktop": ".topnav a, .topnav button, main .primary, .pin-buy, #buy-button, #pay-link",
}


from commerce.notifications.email import unsubscribe_token  # noqa: E402


def english_strings() -> list[str]:
    """The .po's English sources that have a different Chinese text and no placeholder."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans")
    found = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or "%(" in message.id:
            continue
        if message.string and message.string != message.id and message.id not in ALLOWED_ENGLISH:
            found.append(message.id)
    return found


def set_admin(app, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).is_admin = True
        db.session.commit()


def place_order(make_api, buyer, product, address_id) -> tuple[str, str]:
    api = make_api(buyer)
    body = {"items": [{"product_id": product.id, "quantity": 2}], "address_id": address_id}
    placed = api.post("/api/v1/orders", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    order_id = placed.get_json()["orders"][0]["id"]
    payment = api.post(
        f"/api/v1/orders/{order_id}/payments", {}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    return order_id, payment.get_json()["pay_url"]


def delivered_and_reviewed(app, make_api, buyer, product, address_id) -> tuple[str, int]:
    """A second order, delivered and reviewed with a photo: the review pages have content."""
    order_id, _pay_url = place_order(make_api, buyer, product, address_id)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == order_id))
        order.state, order.fulfilment, order.delivered_at = "delivered", "delivered", utcnow()
        line_id = order.lines[0].id
        db.session.commit()
    sent = make_api(buyer).post(
        f"/api/v1/order-lines/{line_id}/review",
        data={"stars": "4", "text": "Fragrant, well packed " * 8, "photos": (png_bytes(), "a.png")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    return order_id, line_id


def open_group(app, make_api, merchant, leader, product) -> str:
    """A group campaign on the product and one open group with its leader paid."""
    from commerce.groupbuy.models import Group, GroupSeat

    made = make_api(merchant).post(
        f"/api/v1/products/{product.id}/group-campaigns",
        {"price_minor": 9900, "group_size": 3},
    )
    assert made.status_code == 201, made.get_json()
    with app.app_context():
        now = utcnow()
        group = Group(public_id="grp-walk", campaign_id=made.get_json()["id"], leader_id=leader.id)
        group.state, group.size, group.paid, group.held = "open", 3, 1, 0
        group.opened_at, group.expires_at = now, now + timedelta(hours=23)
        db.session.add(group)
        db.session.flush()
        db.session.add(
            GroupSeat(
                group_id=group.id,
                joined_group_id=group.id,
                campaign_id=group.campaign_id,
                user_id=leader.id,
                role="leader",
                state="paid",
                paid_at=now,
            )
        )
        db.session.commit()
    return "grp-walk"


def invitations(app, make_api, sharer, invited, flagged) -> None:
    """The invite programme, `invited` joined through `sharer`'s link, `flagged` through
    `invited`'s and held for review: Invite friends, the landing and the review list have rows."""
    from commerce.attribution.models import FraudFlag, Share
    from commerce.invites import programme
    from commerce.invites.models import Invitation

    with app.app_context():
        now = utcnow()
        programme.do_ensure_programme(db.session, programme.Amounts(), now)
        for who, by, state in ((invited, sharer, "joined"), (flagged, invited, "flagged")):
            share = Share(sharer_id=by.id, target_kind="invite", target_key="join")
            db.session.add(share)
            db.session.flush()
            row = Invitation(
                invitee_id=who.id,
                sharer_id=by.id,
                share_id=share.id,
                state=state,
                welcome="device_used",
                order_by_at=now + timedelta(days=30),
            )
            db.session.add(row)
            db.session.flush()
        db.session.add(
            FraudFlag(kind="invite_same_address", subject=f"invite:{row.id}", detail="walk")
        )
        db.session.commit()


def test_every_page_fits_both_viewports_in_both_languages(
    app,
    live_server,
    browser,
    create_user,
    create_product,
    create_address,  # noqa: F811
    create_video,  # noqa: F811
    make_api,
    screenshots,
):
    base = live_server.url
    host = create_user(
        creator=True, merchant=True, name="Mia Tea House With A Long Shop Name", email="m@e.com"
    )
    buyer = create_user(name="Bo", email="bo@example.com")
    admin = create_user(name="Ada", email="ada@example.com")
    set_admin(app, admin.id)
    product = create_product(host, title="Jasmine tea", price_minor=12900, stock=20)
    address_id = create_address(buyer)
    video_id = create_video(host, pins=(product.id,))
    room = make_api(host).post(
        "/api/v1/live/rooms", {"title": "Tea tasting", "featured_product_ids": [product.id]}
    )
    room_id = room.get_json()["id"]
    # A coupon on the product, claimed by the buyer: product, shop, drawer and My coupons show it.
    coupon = make_api(host).post("/api/v1/coupons/templates", template_body(title="Jasmine week"))
    make_api(buyer).post(f"/api/v1/coupons/templates/{coupon.get_json()['id']}/claim", {})
    # A LIVE voucher pinned in the room: its card shows there (claimable once the host is live).
    voucher = make_api(host).post(
        "/api/v1/coupons/templates", template_body(title="Live treat", live_only=True)
    )
    pinned = make_api(host).post(
        f"/api/v1/coupons/live/{room_id}", {"template_id": voucher.get_json()["id"]}
    )
    assert pinned.status_code == 201, pinned.get_json()
    # Points: a check-in, so My points has a balance, a history line and its rules.
    assert make_api(buyer).post("/api/v1/points/check-in").status_code == 201
    order_id, pay_url = place_order(make_api, buyer, product, address_id)
    reviewed_id, line_id = delivered_and_reviewed(app, make_api, buyer, product, address_id)
    group_id = open_group(app, make_api, host, admin, product)
    with app.app_context():
        from commerce.groupbuy.models import Group

        campaign_id = db.session.scalar(
            select(Group.campaign_id).where(Group.public_id == group_id)
        )
    invitations(app, make_api, host, buyer, admin)

    walks = {
        None: [
            "/",
            f"/v/{video_id}",
            "/products",
            f"/products/{product.id}",
            "/search",
            "/search?q=Jasmine&kind=product",
            "/search?q=茉莉&kind=creator",
            f"/products/{product.id}/reviews",
            f"/c/{host.id}",
            f"/shop/{host.id}",
            f"/live/{room_id}",
            f"/notifications/unsubscribe/{unsubscribe_token('test-secret', buyer.id, 'live')}",
            "/login",
            "/signup",
            "/points/rules",
            "/me",
            "/create",
            "/offline",
            "/invite",
        ],
        buyer: [
            "/me",
            "/create",
            "/cart",
            "/addresses",
            "/orders",
            f"/orders/{order_id}",
            f"/orders/{order_id}/credits",
            f"/orders/{reviewed_id}",
            f"/orders/{reviewed_id}/lines/{line_id}/review",
            "/earnings",
            "/profile",
            "/following",
            "/me/following",
            "/me/favourites",
            "/inbox",
            "/me/notifications",
            "/me/coupons",
            "/me/coupons?state=used",
            "/me/points",
            f"/products/{product.id}",
            f"/live/{room_id}",
            f"/groups/{group_id}",
            "/me/groups",
            "/me/invites",
            pay_url.replace("http://localhost", "") if pay_url.startswith("http") else pay_url,
        ],
        host: [
            "/me",
            "/studio",
            f"/studio/videos/{video_id}",
            "/studio/earnings",
            "/studio/groups",
            f"/studio/groups/{campaign_id}/figures",
            "/studio/promotions",
            "/studio/live",
            "/studio/live/new",
            f"/studio/live/{room_id}",
            f"/studio/live/{room_id}/edit",
            "/merchant/products",
            "/merchant/products/new",
            f"/merchant/products/{product.id}/edit",
            "/merchant/orders",
            "/merchant/coupons",
            f"/merchant/coupons/{coupon.get_json()['id']}/figures",
            f"/orders/{order_id}",
            f"/products/{product.id}/reviews",
        ],
        admin: [
            "/me",
            "/admin/commissions",
            "/admin/jobs",
            "/admin/reports",
            "/merchant/coupons",
            "/admin/invites",
        ],
    }
    walked = {path for paths in walks.values() for path in paths}
    with app.test_request_context():
        unwalked = []
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            if rule.rule.startswith("/api") or rule.rule.startswith("/pay/sandbox"):
                continue
            pattern = re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$"
            if not any(re.match(pattern, path.split("?")[0]) for path in walked):
                unwalked.append(rule.rule)
    assert unwalked == [], f"pages nobody walks (add them to the walk): {unwalked}"
    assert any(path.startswith("/pay/sandbox/") for path in walked)

    english = english_strings()
    shoot_all = bool(os.environ.get("E2E_SHOOT_ALL"))  # every page, to look at them
    only = os.environ.get("E2E_ONLY")  # walk the paths that contain this, while working on one
    problems: list[str] = []
    errors: list[str] = []
    for user, paths in walks.items():
        state = None
        if user is not None:
            login = browser.new_context()
            page = login.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=email]", user.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit].primary")
            page.wait_for_load_state()
            state = login.storage_state()
            login.close()
        role = user.display_name.split()[0] if user else "guest"
        for size, (width, height) in VIEWPORTS.items():
            for lang in ("en", "zh_Hans"):
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    has_touch=size == "phone",
                    storage_state=state,
                    locale="en-US",
                    timezone_id="Asia/Shanghai",
                )
                context.add_cookies([{"name": "lang", "value": lang, "url": base}])
                page = context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                for path in paths:
                    if only and only not in path:
                        continue
                    response = page.goto(f"{base}{path}")
                    assert response is not None and response.status < 400, (path, role)
                    page.wait_for_load_state()
                    page.wait_for_timeout(100)  # the page's scripts render (shelf, times)
                    found = page.evaluate(
                        CHECKS, [IMPORTANT[size], english if lang == "zh_Hans" else None]
                    )
                    if found or shoot_all:
                        name = re.sub(r"\W+", "_", f"{role}-{size}-{lang}-{path}")[:80]
                        page.screenshot(path=str(screenshots / f"{name}.png"))
                        problems.extend(f"{role} {size} {lang} {path}: {p}" for p in found)
                context.close()
    assert problems == [], "\n".join(problems)
    assert errors == []

"""Fraud flags hold commissions for an admin, who approves, rejects or bans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from commerce.attribution.fraud import normalise_email, normalise_phone
from commerce.attribution.models import Commission, FraudFlag
from commerce.extensions import db
from commerce.orders.models import Order
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import balance, deliver_and_release, set_user


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ann@Example.com", "ann@example.com", True),
        ("ann+shop@example.com", "ann@example.com", True),
        ("a.n.n@gmail.com", "ann@googlemail.com", True),
        ("a.n.n@example.com", "ann@example.com", False),
        ("ann@example.com", "bob@example.com", False),
    ],
)
def test_emails_are_normalised(a, b, same):
    assert (normalise_email(a) == normalise_email(b)) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("+86 138-0013-8000", "13800138000", True),
        ("0086 13800138000", "138 0013 8000", True),
        ("13800138000", "13800138001", False),
        ("", "", False),
    ],
)
def test_phones_are_normalised(a, b, same):
    first, second = normalise_phone(a), normalise_phone(b)
    assert (bool(first) and first == second) is same


def order_state(app, public_id: str) -> tuple[set[str], dict[str, str]]:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        kinds = set(
            db.session.scalars(select(FraudFlag.kind).where(FraudFlag.order_id == order.id))
        )
        reviews = {
            c.role: c.review
            for c in db.session.scalars(select(Commission).where(Commission.amount_minor > 0))
            if c.order_line_id == order.lines[0].id
        }
        return kinds, reviews


CASES = {
    "clean": ({}, {}, set()),
    "same_email": ({"email": "SamSmith+x@googlemail.com"}, {}, {"same_email"}),
    "same_phone": ({"phone": "+86 138 0013 8000"}, {"phone": "13800138000"}, {"same_phone"}),
    "same_device": ({}, {"device_id": "dev-sam"}, {"same_device"}),
    "ad_click": ({}, {"ad": True}, {"ad_click"}),
    "ip_burst": ({}, {"burst": True}, {"ip_burst"}),
    "click_velocity": ({}, {"velocity": True}, {"click_velocity"}),
    "order_velocity": ({}, {"orders": True}, {"order_velocity"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fraud_signals(app, world, add_click, paid_order, create_user, case):
    buyer_fields, extra, expected = CASES[case]
    if buyer_fields:
        set_user(app, world["buyer"].id, **buyer_fields)
    if "phone" in extra:
        set_user(app, world["sharer"].id, phone=extra["phone"])
    now = utcnow()
    if extra.get("velocity"):
        for i in range(25):
            add_click(world["share"], visitor=f"bot{i}", at=now - timedelta(minutes=30))
    if extra.get("orders"):
        for n in range(4):
            other = create_user()
            add_click(
                world["share"], visitor=f"o{n}", user_id=other.id, at=now - timedelta(minutes=50)
            )
            paid_order(
                other,
                world["product"],
                video=world["video"],
                ip_hash=f"ip-{n}",
                now=now - timedelta(minutes=20),
                flag=False,
            )
    if extra.get("burst"):
        for _ in range(5):  # hours ago: a burst from one network, not a velocity spike
            other = create_user()
            add_click(world["share"], visitor="x", user_id=other.id, at=now - timedelta(hours=4))
            paid_order(
                other,
                world["product"],
                video=world["video"],
                ip_hash="iphash-1",
                now=now - timedelta(hours=3),
                flag=False,
            )
    add_click(
        world["share"],
        visitor="dev-bea",
        user_id=world["buyer"].id,
        ad=bool(extra.get("ad")),
        at=now,
    )
    public_id = paid_order(
        world["buyer"],
        world["product"],
        video=world["video"],
        device_id=extra.get("device_id", "dev-bea"),
        ip_hash="iphash-1" if extra.get("burst") else "iphash-2",
        now=now,
    )
    kinds, reviews = order_state(app, public_id)
    assert kinds == expected
    assert reviews["sharer"] == ("held" if expected else "none")
    assert reviews["creator"] == "none"  # the signals are about the sharer, not the content


@pytest.mark.parametrize(("ip_orders", "earlier", "flagged"), [(5, 2, False), (2, 2, True)])
def test_the_ip_burst_threshold_is_a_setting(
    app, world, add_click, paid_order, create_user, ip_orders, earlier, flagged
):
    app.config["FRAUD_IP_ORDERS"] = ip_orders
    now = utcnow()
    for n in range(earlier):
        other = create_user()
        add_click(world["share"], visitor=f"n{n}", user_id=other.id, at=now - timedelta(hours=2))
        paid_order(
            other, world["product"], video=world["video"], ip_hash="net-1",
            now=now - timedelta(hours=1), flag=False,
        )  # fmt: skip
    add_click(world["share"], visitor="dev-bea", user_id=world["buyer"].id, at=now)
    public_id = paid_order(world["buyer"], world["product"], video=world["video"], ip_hash="net-1")
    kinds, _reviews = order_state(app, public_id)
    assert ("ip_burst" in kinds) is flagged


def test_flags_are_idempotent(app, world, add_click, paid_order):
    from commerce.attribution.crediting import commissions_for_order
    from commerce.attribution.fraud import flags_for_order

    set_user(app, world["buyer"].id, email="samsmith@gmail.com")
    add_click(world["share"], visitor="dev-bea", user_id=world["buyer"].id)
    public_id = paid_order(world["buyer"], world["product"], video=world["video"])
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        again = flags_for_order(
            db.session, order, commissions_for_order(db.session, order), utcnow()
        )
        db.session.commit()
        assert len(again) == 1
        assert db.session.scalar(select(db.func.count()).select_from(FraudFlag)) == 1


@pytest.fixture
def admin(app, create_user):
    user = create_user(name="Root")
    set_user(app, user.id, is_admin=True)
    return user


def held_order(app, world, add_click, paid_order) -> tuple[str, int]:
    set_user(app, world["buyer"].id, email="sam.smith+alt@gmail.com")
    add_click(world["share"], visitor="dev-bea", user_id=world["buyer"].id)
    public_id = paid_order(world["buyer"], world["product"], video=world["video"])
    with app.app_context():
        commission_id = db.session.scalar(select(Commission.id).where(Commission.review == "held"))
    return public_id, commission_id


def test_held_then_approved_is_released(app, world, add_click, paid_order, make_api, admin):
    public_id, commission_id = held_order(app, world, add_click, paid_order)
    assert deliver_and_release(app, public_id) == 1  # only the creator's: the sharer's is held
    assert balance(app, world["sharer"].id)["available"] == 0
    page = make_api(admin).client.get("/admin/commissions").get_data(as_text=True)
    assert f'data-commission-id="{commission_id}"' in page and "same_email" in page
    # A non-admin can neither see the queue nor decide.
    stranger = make_api(world["sharer"])
    assert stranger.client.get("/admin/commissions").status_code == 403
    url = f"/api/v1/admin/commissions/{commission_id}/review"
    assert stranger.post(url, {"decision": "approve"}).status_code == 403
    response = make_api(admin).post(url, {"decision": "approve"})
    assert response.status_code == 200 and response.get_json()["review"] == "approved"
    assert make_api(admin).post(url, {"decision": "approve"}).status_code == 409
    deliver_and_release(app, public_id)
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 1000,
        "paid": 0,
        "cancelled": 0,
    }
    with app.app_context():
        assert db.session.scalar(select(FraudFlag.state)) == "dismissed"


def test_held_then_rejected_is_cancelled(app, world, add_click, paid_order, make_api, admin):
    public_id, commission_id = held_order(app, world, add_click, paid_order)
    browser = make_api(admin)
    page = browser.client.get("/admin/commissions").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = browser.client.post(
        f"/admin/commissions/{commission_id}/reject", data={"csrf_token": token}
    )
    assert response.status_code == 302
    deliver_and_release(app, public_id)
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 0,
        "paid": 0,
        "cancelled": 1000,
    }
    html = (
        make_api(world["sharer"]).client.get(f"/orders/{public_id}/credits").get_data(as_text=True)
    )
    assert "Rejected after review" in html


def test_ban_cancels_pending_and_stops_sharing(
    app, world, add_click, paid_order, make_api, admin, create_user
):
    add_click(world["share"], visitor="dev-bea", user_id=world["buyer"].id)
    paid_order(world["buyer"], world["product"], video=world["video"])
    assert balance(app, world["sharer"].id)["pending"] == 1000
    response = make_api(admin).post(f"/api/v1/admin/sharers/{world['sharer'].id}/ban")
    assert response.status_code == 200 and response.get_json()["cancelled_commissions"] == 1
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 0,
        "paid": 0,
        "cancelled": 1000,
    }
    refused = make_api(world["sharer"]).post(
        "/api/v1/shares", {"target_kind": "video", "target_key": world["video"].public_id}
    )
    assert refused.status_code == 403
    # A later sale through the old link is credited but held for review.
    other = create_user()
    add_click(world["share"], visitor="dev-o", user_id=other.id)
    public_id = paid_order(other, world["product"], video=world["video"])
    kinds, reviews = order_state(app, public_id)
    assert "banned_payee" in kinds and reviews["sharer"] == "held"
    assert (
        make_api(world["buyer"]).post(f"/api/v1/admin/sharers/{world['sharer'].id}/ban").status_code
        == 403
    )

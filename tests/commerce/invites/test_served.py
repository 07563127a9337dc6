"""Invites in the running app (`flask serve` as `make run` starts it, with its own scheduler):
a sharer's invite link, a new visitor signs up through it and gets the welcome coupon, buys,
the order is delivered, and after the (short) return window the app's own periodic job rewards
the sharer once."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from commerce.extensions import db
from commerce.invites.models import InviteReward
from commerce.jobs.models import PeriodicTask
from tests.commerce.attribution.test_money_loop_served import TAPPED, Browser
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

REWARD_TASK = "commerce.invites.jobs.reward_invitations"


def test_the_running_app_rewards_the_sharer_after_the_return_window(
    app,
    processes,
    programme,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=5_000, stock=5)
    ann = create_user(name="Ann")
    url = processes.serve(INVITE_HOLD_SECONDS="4", INVITE_REWARD_EVERY_SECONDS="1")

    sharer = Browser(url).log_in(ann.email)
    share = sharer.call("POST", "/api/v1/shares", {"target_kind": "invite", "target_key": "join"})
    assert share.status_code == 201, share.text

    visitor = Browser(url)
    landed = visitor.http.get(share.json()["url"].replace("http://localhost", url), headers=TAPPED)
    assert landed.status_code == 200 and landed.url.endswith("/invite")
    assert "Ann invited you." in landed.text
    signed = visitor.call(
        "POST",
        "/api/v1/auth/signup",
        {"email": "bo@example.com", "password": PASSWORD, "display_name": "Bo"},
    )
    assert signed.status_code == 201, signed.text
    welcome = visitor.call("GET", "/api/v1/invites").json()["invited_by"]
    assert welcome["sharer_name"] == "Ann" and welcome["coupon_state"] == "valid"

    bo = type(ann)(id=signed.json()["id"], email="bo@example.com")
    address_id = create_address(bo)
    placed = visitor.call(
        "POST",
        "/api/v1/orders",
        {"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id},
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    assert order["total_minor"] == 4_000  # the welcome coupon applied itself
    payment = visitor.call(
        "POST", f"/api/v1/orders/{order['id']}/payments", {}, **{"Idempotency-Key": "p1"}
    )
    pay_url = url + payment.json()["pay_url"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', visitor.http.get(pay_url).text).group(1)
    visitor.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    wait_for(
        lambda: visitor.call("GET", f"/api/v1/orders/{order['id']}").json()["state"] == "paid",
        timeout=60,
        what="the order to be paid (the sandbox's webhook, sent by the app's worker)",
    )

    def shown() -> str:
        return sharer.call("GET", "/api/v1/invites").json()["invitations"][0]["shown"]

    assert shown() == "ordered"
    seller = Browser(url).log_in(merchant.email)
    assert (
        seller.call(
            "POST", f"/api/v1/orders/{order['id']}/ship", {"tracking_number": "SF1"}
        ).status_code
        == 200
    )
    assert seller.call("POST", f"/api/v1/orders/{order['id']}/deliver").status_code == 200
    assert shown() == "reward_on"  # the return window (4 s here) is still open
    wait_for(lambda: shown() == "rewarded", timeout=60, what="the app's job to reward Ann")

    coupons = sharer.call("GET", "/api/v1/coupons/mine").json()["items"]
    assert [c["template_id"] for c in coupons] == [programme[1]]
    told = sharer.call("GET", "/api/v1/me/notifications").json()["items"]
    assert [n["type"] for n in told] == ["invite"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InviteReward)) == 1
        task = db.session.get(PeriodicTask, REWARD_TASK)
        assert task is not None and task.runs >= 2 and task.last_error is None


def test_the_running_app_voids_an_invitation_whose_order_window_ended(
    app, processes, programme, sharer, invitee
):
    """Nobody reads it: the app's own task stores the end of the window (reads check it too)."""
    from datetime import timedelta

    from sqlalchemy import update

    from commerce.invites.models import Invitation
    from commerce.timeutil import utcnow
    from tests.commerce.invites.conftest import link_of

    ann = sharer()
    _api, bo_id = invitee(link_of(ann))
    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.invitee_id == bo_id)
            .values(order_by_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    processes.serve(INVITE_EXPIRE_EVERY_SECONDS="1")

    def stored_state() -> str:
        with app.app_context():
            db.session.expire_all()
            return db.session.scalar(select(Invitation.state).where(Invitation.invitee_id == bo_id))

    assert wait_for(lambda: stored_state() == "void")
    with app.app_context():
        task = db.session.get(PeriodicTask, "commerce.invites.jobs.expire_invitations")
        assert task is not None and task.runs >= 1 and task.last_error is None

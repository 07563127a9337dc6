"""Group buying in the running app (`flask serve` with its own jobs and scheduler): the leader
shares one signed link that carries the group and the attribution; a member lands on the group
through it, joins and pays; the window ends and the app's own periodic job refunds both."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from commerce.extensions import db
from commerce.groupbuy.models import Group
from commerce.orders.models import Order, OrderLine
from commerce.timeutil import utcnow
from tests.commerce.attribution.test_money_loop_served import TAPPED, Browser
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)


def _pay(url: str, who: Browser, order_id: str) -> None:
    payment = who.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {}, **{"Idempotency-Key": uuid.uuid4().hex}
    )
    assert payment.status_code == 201, payment.text
    pay_url = url + payment.json()["pay_url"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', who.http.get(pay_url).text).group(1)
    who.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    wait_for(
        lambda: who.call("GET", f"/api/v1/orders/{order_id}").json()["state"] == "paid",
        timeout=60,
        what="the order to be paid",
    )


def _join(who: Browser, body: dict) -> dict:
    placed = who.call("POST", "/api/v1/group-orders", body, **{"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    return placed.json()


def test_an_expired_group_is_refunded_by_the_running_app(
    app,
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=1_000, stock=5, sharer_rate_bp=1000)
    ann, bo = create_user(name="Ann"), create_user(name="Bo")
    ann_address, bo_address = create_address(ann), create_address(bo)
    url = processes.serve(GROUP_EXPIRY_SECONDS="1")

    seller = Browser(url).log_in(merchant.email)
    made = seller.call(
        "POST",
        f"/api/v1/products/{product.id}/group-campaigns",
        {"price_minor": 800, "group_size": 3, "window_minutes": 60},
    )
    assert made.status_code == 201, made.text

    leader = Browser(url).log_in(ann.email)
    opened = _join(leader, {"product_id": product.id, "address_id": ann_address})
    _pay(url, leader, opened["order_id"])
    share = leader.call(
        "POST", "/api/v1/shares", {"target_kind": "group", "target_key": opened["group_id"]}
    )
    assert share.status_code == 201, share.text

    member = Browser(url)
    landed = member.http.get(share.json()["url"].replace("http://localhost", url), headers=TAPPED)
    assert landed.status_code == 200 and landed.url.endswith(f"/groups/{opened['group_id']}")
    assert "Join this group" in member.log_in(bo.email).http.get(landed.url).text
    joined = _join(
        member,
        {"product_id": product.id, "address_id": bo_address, "group_id": opened["group_id"]},
    )
    _pay(url, member, joined["order_id"])
    with app.app_context():
        chain = db.session.scalar(
            select(OrderLine.chain).join(Order).where(Order.public_id == joined["order_id"])
        )
        assert chain == [ann.id]  # the leader is the member's level-1 sharer
        # The window ends with one seat empty.
        db.session.execute(
            update(Group)
            .where(Group.public_id == opened["group_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    def refunded() -> bool:
        return (
            member.call("GET", f"/api/v1/orders/{joined['order_id']}").json()["state"] == "refunded"
        )

    wait_for(refunded, timeout=60, what="the member to be refunded by the periodic job")
    order = member.call("GET", f"/api/v1/orders/{joined['order_id']}").json()
    assert order["refunded_minor"] == 800
    assert leader.call("GET", f"/api/v1/orders/{opened['order_id']}").json()["state"] == "refunded"
    assert member.call("GET", f"/api/v1/groups/{opened['group_id']}").json()["state"] == "failed"
    page = member.http.get(f"{url}/orders/{joined['order_id']}").text
    assert 'data-state="refunded"' in page


def test_the_running_app_pays_the_leaders_rebate_and_the_group_page_hears_it(
    app,
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    """团长免单 through `flask serve`'s own scheduler: once the leader's order is delivered and
    the return window (0 days here) is over, the periodic rebate job refunds it, and a viewer
    watching the group over Socket.IO hears `rebate_state: paid`; the page says so."""
    import socketio as socketio_client

    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=1_000, stock=5)
    ann, bo = create_user(name="Ann"), create_user(name="Bo")
    ann_address, bo_address = create_address(ann), create_address(bo)
    url = processes.serve(GROUP_REBATE_SECONDS="1", GROUP_LEADER_RETURN_DAYS="0")

    seller = Browser(url).log_in(merchant.email)
    made = seller.call(
        "POST",
        f"/api/v1/products/{product.id}/group-campaigns",
        {
            "price_minor": 800,
            "group_size": 2,
            "window_minutes": 60,
            "leader_free": True,
            "free_quota": 1,
            "free_budget_minor": 1_000,
        },
    )
    assert made.status_code == 201, made.text
    leader = Browser(url).log_in(ann.email)
    opened = _join(leader, {"product_id": product.id, "address_id": ann_address})
    _pay(url, leader, opened["order_id"])
    member = Browser(url).log_in(bo.email)
    joined = _join(
        member,
        {"product_id": product.id, "address_id": bo_address, "group_id": opened["group_id"]},
    )
    _pay(url, member, joined["order_id"])

    heard: list[dict] = []
    viewer = socketio_client.Client(reconnection=False)
    viewer.on("group.updated", heard.append)
    viewer.connect(url, transports=["polling"])
    try:
        ack = viewer.call("group.join", {"group": opened["group_id"]}, timeout=10)
        assert (ack["group"]["state"], ack["group"]["rebate_state"]) == ("succeeded", "")
        order_url = f"/api/v1/orders/{opened['order_id']}"
        shipped = seller.call("POST", f"{order_url}/ship", {"tracking_number": "SF123"})
        assert shipped.status_code == 200, shipped.text
        assert seller.call("POST", f"{order_url}/deliver", {}).status_code == 200
        wait_for(
            lambda: any(g["rebate_state"] == "paid" for g in heard),
            timeout=60,
            what="the rebate job's group.updated",
        )
    finally:
        viewer.disconnect()
    order = leader.call("GET", order_url).json()
    assert (order["state"], order["refunded_minor"]) == ("refunded", 800)
    page = leader.http.get(f"{url}/groups/{opened['group_id']}").text
    assert '<p class="success group-rebate">' in page

"""Coupons in the running app (`flask serve` with its own jobs and scheduler), over HTTP: claim,
buy with the coupons, pay in the sandbox, commissions on the right base, cancel gives back,
and the expiry job."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from commerce.attribution.models import Commission
from commerce.coupons.models import Coupon
from commerce.extensions import db
from commerce.timeutil import utcnow
from tests.commerce.attribution.test_money_loop_served import TAPPED, Browser
from tests.commerce.coupons.conftest import template_body
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)


def place(browser: Browser, body: dict) -> dict:
    placed = browser.call("POST", "/api/v1/orders", body, **{"Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    return placed.json()["orders"][0]


def pay(url: str, browser: Browser, order_id: str) -> None:
    payment = browser.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {}, **{"Idempotency-Key": uuid.uuid4().hex}
    )
    pay_url = url + payment.json()["pay_url"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.http.get(pay_url).text).group(1)
    browser.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    wait_for(
        lambda: browser.call("GET", f"/api/v1/orders/{order_id}").json()["state"] == "paid",
        timeout=60,
        what="the order to be paid",
    )


def test_claim_buy_pay_and_cancel_with_coupons_in_the_running_app(
    app,
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=10_000, stock=10, sharer_rate_bp=1000)
    sharer, buyer = create_user(name="Sam"), create_user(name="Bea")
    admin = create_user(name="Ops")
    with app.app_context():
        from commerce.accounts.models import User

        db.session.get(User, admin.id).is_admin = True
        db.session.commit()
    address_id = create_address(buyer)
    url = processes.serve(COUPON_EXPIRE_EVERY_SECONDS="1")

    shop = Browser(url).log_in(merchant.email)
    made = shop.call("POST", "/api/v1/coupons/templates", template_body(amount_minor=1000))
    assert made.status_code == 201, made.text
    ops = Browser(url).log_in(admin.email)
    platform = ops.call(
        "POST", "/api/v1/coupons/templates", template_body(funded_by="platform", amount_minor=500)
    )
    assert platform.status_code == 201, platform.text

    sam = Browser(url).log_in(sharer.email)
    share = sam.call(
        "POST", "/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)}
    )
    bea = Browser(url)
    bea.http.get(share.json()["url"].replace("http://localhost", url), headers=TAPPED)
    bea.log_in(buyer.email)
    offered = bea.call("GET", f"/api/v1/coupons/available?product_id={product.id}").json()
    assert {t["id"] for t in offered["items"]} == {made.json()["id"], platform.json()["id"]}
    for template in offered["items"]:
        claimed = bea.call("POST", f"/api/v1/coupons/templates/{template['id']}/claim", {})
        assert claimed.status_code == 201, claimed.text

    order = place(
        bea, {"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id}
    )
    assert (order["discount_minor"], order["total_minor"]) == (1500, 8500)
    pay(url, bea, order["id"])
    with app.app_context():
        [commission] = db.session.query(Commission).filter_by(user_id=sharer.id).all()
        # Base 10,000 - 1,000 (shop-funded); the platform's 500 does not lower it.
        assert (commission.base_minor, commission.amount_minor) == (9000, 900)
    credits = bea.call("GET", f"/api/v1/orders/{order['id']}/credits").json()
    notes = credits["lines"][0]["coupon_notes"]
    assert any("Shop coupon" in n for n in notes) and any("Platform coupon" in n for n in notes)
    stats = shop.call("GET", "/api/v1/coupons/templates/mine").json()["items"][0]
    assert (stats["redeemed"], stats["spent_minor"], stats["gmv_minor"]) == (1, 1000, 8500)

    # A second shop coupon, used by an order the buyer then cancels: it comes back.
    again = shop.call("POST", "/api/v1/coupons/templates", template_body(amount_minor=700))
    bea.call("POST", f"/api/v1/coupons/templates/{again.json()['id']}/claim", {})
    second = place(
        bea, {"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id}
    )
    assert second["discount_minor"] == 700
    assert bea.call("GET", "/api/v1/coupons/mine").json()["items"] == []
    assert bea.call("POST", f"/api/v1/orders/{second['id']}/cancel", {}).status_code == 200
    [back] = bea.call("GET", "/api/v1/coupons/mine").json()["items"]
    assert back["template_id"] == again.json()["id"] and back["state"] == "valid"

    # Its validity ends: the app's own scheduler marks it expired.
    with app.app_context():
        db.session.get(Coupon, back["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    def expired() -> bool:
        with app.app_context():
            return db.session.get(Coupon, back["id"]).state == "expired"

    wait_for(expired, timeout=30, what="the expiry job")

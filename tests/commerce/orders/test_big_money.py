"""Amounts past 32 bits: a ¥30,000,000 watch, or 30 units at ¥1,000,000, are sold and paid."""

from __future__ import annotations

from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.payments.conftest import (  # noqa: F401  (fixture)
    deliver,
    pay_with,
    start_payment,
    webhook_inbox,
)

BIG = 3_000_000_000  # minor units: past 2**31 - 1, PostgreSQL's INTEGER


def test_a_price_past_32_bits_is_listed(create_user, make_api):
    merchant = make_api(create_user(merchant=True))
    product = {"title": "Watch", "price_minor": BIG, "currency": "CNY", "stock": 1}
    created = merchant.post("/api/v1/products", product)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["price_minor"] == BIG
    too_big = merchant.post("/api/v1/products", {**product, "price_minor": 10**12 + 1})
    assert too_big.status_code == 400 and too_big.get_json()["error"]["fields"]


def test_an_order_past_32_bits_is_placed_paid_and_refunded(
    app,
    buyer_setup,
    make_api,
    webhook_inbox,  # noqa: F811
):
    api, product, address_id, _buyer, merchant = buyer_setup(price_minor=100_000_000, stock=50)
    placed = place(api, buy_now(product.id, address_id, 30))
    assert placed.status_code == 201, placed.get_json()
    [order] = placed.get_json()["orders"]
    assert order["total_minor"] == 3_000_000_000
    payment = start_payment(api, order["id"]).get_json()
    assert payment["amount_minor"] == 3_000_000_000
    pay_with(api, payment["pay_url"], "4242424242424242")
    deliver(app)
    assert api.get(f"/api/v1/orders/{order['id']}").get_json()["state"] == "paid"
    refund = make_api(merchant).post(
        f"/api/v1/orders/{order['id']}/refund",
        {"amount_minor": 2_500_000_000, "reason": "changed mind"},
        headers={"Idempotency-Key": "big-refund-1"},
    )
    assert refund.status_code == 200, refund.get_json()
    assert refund.get_json()["refunded_minor"] == 2_500_000_000

"""Spending points at checkout: within the balance and the caps, after coupons, split over the
lines, given back on cancel and per item on refund; the commission base keeps them."""

from __future__ import annotations

from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from tests.commerce.orders.conftest import buy_now, place
from tests.commerce.points.conftest import balance, entries, ledger_sum, pay, refund


def test_points_take_money_off_within_the_half_order_cap(app, buyer_setup, grant, make_api):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    grant(buyer, 5000)
    quote = api.post(
        "/api/v1/orders/quote",
        {"items": [{"product_id": product.id, "quantity": 1}], "points_to_use": 5000},
    ).get_json()["orders"][0]
    # 100 points = ¥1, at most 50 % of the order: ¥15.00 off for 1,500 points.
    assert quote["points"] == {
        "balance": 5000,
        "max_points": 1500,
        "points": 1500,
        "discount_minor": 1500,
        "discount_display": "¥15.00",
        "max_discount_display": "¥15.00",
    }
    assert quote["total_minor"] == 1500
    placed = place(api, {**buy_now(product.id, address_id), "points_to_use": 5000})
    assert placed.status_code == 201, placed.get_json()
    [order] = placed.get_json()["orders"]
    assert (order["total_minor"], order["points_used"], order["points_discount_minor"]) == (
        1500,
        1500,
        1500,
    )
    assert balance(app, buyer) == 3500 == ledger_sum(app, buyer)
    assert entries(app, buyer)[-1] == ("spend", -1500)


def test_more_points_than_held_is_refused_and_nothing_is_written(app, buyer_setup, grant):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    grant(buyer, 100)
    refused = place(api, {**buy_now(product.id, address_id), "points_to_use": 101})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "points_balance"
    assert "100" in refused.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.query(Order).count() == 0
    assert balance(app, buyer) == 100


def test_bad_points_input_is_a_clear_400(app, buyer_setup):
    api, product, address_id, _buyer, _merchant = buyer_setup()
    for bad in (-1, "many", 10**12, 1.5):
        answer = place(api, {**buy_now(product.id, address_id), "points_to_use": bad})
        assert answer.status_code == 400, answer.get_json()
        assert "points_to_use" in answer.get_json()["error"]["fields"]


def test_points_split_over_lines_and_keep_the_commission_base(
    app, create_user, create_product, create_address, make_api, grant
):
    merchant = create_user(merchant=True)
    tea = create_product(merchant, price_minor=1000)
    cup = create_product(merchant, price_minor=3001)
    buyer = create_user()
    api = make_api(buyer)
    grant(buyer, 10_000)
    body = {
        "items": [
            {"product_id": tea.id, "quantity": 1},
            {"product_id": cup.id, "quantity": 1},
        ],
        "address_id": create_address(buyer),
        "points_to_use": 10_000,
    }
    [order] = place(api, body).get_json()["orders"]
    # half of 40.01 = 20.00 (rounded down), split by what each line has above 0.01
    assert order["points_discount_minor"] == 2000
    lines = order["lines"]
    assert [line["points_discount_minor"] for line in lines] == [500, 1500]
    assert sum(line["points_used"] for line in lines) == 2000
    with app.app_context():
        stored = db.session.scalars(select(OrderLine).order_by(OrderLine.id)).all()
        assert [line.amount_minor for line in stored] == [500, 1501]
        assert [line.commission_base_minor for line in stored] == [1000, 3001]


def test_a_cancelled_order_gives_the_points_back_once(app, buyer_setup, grant):
    api, product, address_id, buyer, _merchant = buyer_setup(price_minor=3000)
    grant(buyer, 1000)
    [order] = place(api, {**buy_now(product.id, address_id), "points_to_use": 1000}).get_json()[
        "orders"
    ]
    assert balance(app, buyer) == 0
    assert api.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 200
    assert api.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409
    assert balance(app, buyer) == 1000 == ledger_sum(app, buyer)
    assert [kind for kind, _ in entries(app, buyer)] == ["grant", "spend", "spend_back"]


def test_refunds_give_spent_points_back_in_proportion(
    app,
    buyer_setup,
    grant,
    make_api,
    webhook_inbox,
):
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=4000)
    grant(buyer, 2000)
    [order] = place(api, {**buy_now(product.id, address_id), "points_to_use": 2000}).get_json()[
        "orders"
    ]
    assert order["total_minor"] == 2000
    pay(app, api, order["id"])
    seller = make_api(merchant)
    assert refund(seller, order["id"], 500).status_code == 200  # a quarter back
    assert balance(app, buyer) == 500
    assert refund(seller, order["id"], 1500).status_code == 200  # the rest
    assert balance(app, buyer) == 2000 == ledger_sum(app, buyer)
    assert [e for e in entries(app, buyer) if e[0] == "spend_back"] == [
        ("spend_back", 500),
        ("spend_back", 1500),
    ]

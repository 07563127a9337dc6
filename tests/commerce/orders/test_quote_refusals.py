"""The checkout quote refuses what placing the order refuses, with the same status, code and
message: the drawer and the cart say it before the buyer presses Pay, not after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commerce.orders.conftest import place


def _basket(case: str, create_user: Any, create_product: Any, buyer: Any) -> list[dict]:
    seller = create_user(merchant=True)
    if case == "own_product":
        mine = create_product(buyer, title="My own tea")
        return [{"product_id": mine.id, "quantity": 1}]
    if case == "out_of_stock":
        few = create_product(seller, title="Rare tea", stock=2)
        return [{"product_id": few.id, "quantity": 3}]
    # currency: one seller's products priced in two currencies cannot share an order
    yuan = create_product(seller, title="Tea in yuan", currency="CNY")
    dollars = create_product(seller, title="Tea in dollars", currency="USD")
    return [{"product_id": yuan.id, "quantity": 1}, {"product_id": dollars.id, "quantity": 1}]


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("own_product", 400, "You cannot buy your own product."),
        ("out_of_stock", 409, "Rare tea does not have enough stock left."),
        ("currency", 400, "Products in one order must share a currency."),
    ],
)
def test_the_quote_refuses_as_the_order_does(
    case, status, message, create_user, create_product, create_address, make_api
):
    buyer = create_user(merchant=True)
    api = make_api(buyer)
    items = _basket(case, create_user, create_product, buyer)

    quoted = api.post("/api/v1/orders/quote", {"items": items})
    placed = place(api, {"items": items, "address_id": create_address(buyer)})

    for answer in (quoted, placed):
        assert answer.status_code == status, answer.get_json()
        body = answer.get_json()["error"]
        assert (body["code"], body["message"]) == (case, message)
    assert api.get("/api/v1/orders").get_json()["items"] == []


def test_a_basket_within_stock_is_quoted(create_user, create_product, make_api):
    """The refusals are not a blanket: the last units in stock are quoted."""
    few = create_product(create_user(merchant=True), title="Rare tea", stock=2)
    api = make_api(create_user())
    answer = api.post("/api/v1/orders/quote", {"items": [{"product_id": few.id, "quantity": 2}]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["orders"][0]["subtotal_minor"] == 2 * few.price_minor

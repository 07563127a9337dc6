"""The checkout quote is the order that follows: for random baskets (1-3 products of 1-2 sellers,
flash sales or not, shop and platform coupons held or not, points 0..5000 used not at all, partly
or fully, the best coupons or the buyer's choice, bought now or from the cart) each order placed
through the API costs what `POST /api/v1/orders/quote` said, seller by seller."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.commerce.coupons.conftest import claim, create_template  # noqa: F401  (fixture)
from tests.commerce.orders.conftest import place
from tests.commerce.points.conftest import grant  # noqa: F401  (fixture)

product_spec = st.fixed_dictionaries(
    {
        "seller": st.integers(0, 1),
        "price": st.integers(100, 20_000),
        "quantity": st.integers(1, 3),
        "flash_bp": st.sampled_from([None, 3000, 7000, 9999]),  # flash price, of the list price
    }
)
coupon_spec = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "kind": st.just("amount"),
            "amount": st.integers(1, 3000),
            "min_spend": st.integers(0, 9000),
        }
    ),
    st.fixed_dictionaries(
        {"kind": st.just("percent"), "percent": st.integers(1, 90), "cap": st.integers(1, 5000)}
    ),
)


@st.composite
def baskets(draw: Any) -> dict[str, Any]:
    products = draw(st.lists(product_spec, min_size=1, max_size=3))
    sellers = sorted({p["seller"] for p in products})
    balance = draw(st.integers(0, 5000))
    points = draw(st.sampled_from(["none", "some", "all"]))
    return {
        "products": products,
        "shop_coupons": {s: draw(coupon_spec) for s in sellers},
        "platform_coupon": draw(coupon_spec),
        "balance": balance,
        "points_to_use": {
            "none": None,
            "some": draw(st.integers(0, balance)),
            "all": balance,
        }[points],
        "coupons": draw(st.sampled_from(["best", "none", "chosen"])),
        "from_cart": len(sellers) == 1 and draw(st.booleans()),
    }


def _template(owner: Any, spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
    if spec["kind"] == "amount":
        fields.update(amount_minor=spec["amount"], min_spend_minor=spec["min_spend"])
    else:
        fields.update(
            kind="percent", amount_minor=0, percent=spec["percent"], cap_minor=spec["cap"]
        )
    return fields


def _quoted(order: dict[str, Any]) -> tuple[int, ...]:
    points = order["points"]
    money = (order["subtotal_minor"], order["discount_minor"], order["total_minor"])
    return (order["merchant_id"], *money, points["points"], points["discount_minor"])


def _placed(order: dict[str, Any]) -> tuple[int, ...]:
    money = (order["subtotal_minor"], order["discount_minor"], order["total_minor"])
    return (order["merchant_id"], *money, order["points_used"], order["points_discount_minor"])


TWO_SELLERS_ONE_PLATFORM_COUPON = {
    "products": [
        {"seller": 0, "price": 5000, "quantity": 1, "flash_bp": None},
        {"seller": 1, "price": 6000, "quantity": 2, "flash_bp": 7000},
    ],
    "shop_coupons": {0: None, 1: {"kind": "amount", "amount": 500, "min_spend": 0}},
    "platform_coupon": {"kind": "amount", "amount": 800, "min_spend": 0},
    "balance": 5000,
    "points_to_use": 5000,
    "coupons": "best",
    "from_cart": False,
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(basket=baskets())
@example(basket=TWO_SELLERS_ONE_PLATFORM_COUPON)
@example(basket={**TWO_SELLERS_ONE_PLATFORM_COUPON, "coupons": "chosen", "points_to_use": 1234})
def test_the_quote_costs_what_the_orders_placed_cost(
    app,
    create_user,
    create_product,
    create_address,
    create_flash,
    create_template,  # noqa: F811
    grant,  # noqa: F811
    make_api,
    basket,
):
    sellers = {s: create_user(merchant=True) for s in basket["shop_coupons"]}
    buyer = create_user()
    api = make_api(buyer)
    items = []
    for spec in basket["products"]:
        product = create_product(sellers[spec["seller"]], price_minor=spec["price"], stock=50)
        if spec["flash_bp"] is not None:
            price = max(1, spec["price"] * spec["flash_bp"] // 10_000)
            create_flash(product.id, price_minor=price, quantity=50)
        items.append({"product_id": product.id, "quantity": spec["quantity"]})
    held = {}  # funder -> coupon ids
    for s, spec in basket["shop_coupons"].items():
        if spec is not None:
            template = create_template(sellers[s], **_template(sellers[s], spec))
            held.setdefault("merchant", []).append(claim(api, template).get_json()["id"])
    if basket["platform_coupon"] is not None:
        operator = create_user()
        fields = _template(operator, basket["platform_coupon"])
        template = create_template(operator, merchant_id=None, funded_by="platform", **fields)
        held.setdefault("platform", []).append(claim(api, template).get_json()["id"])
    if basket["balance"]:
        grant(buyer, basket["balance"])
    choice: dict[str, Any] = {}
    if basket["coupons"] == "none":
        choice["coupon_ids"] = []
    elif basket["coupons"] == "chosen":  # one coupon of each funder at most
        choice["coupon_ids"] = [ids[-1] for ids in held.values()]
    if basket["points_to_use"] is not None:
        choice["points_to_use"] = basket["points_to_use"]

    if basket["from_cart"]:  # the cart page quotes the seller's cart lines, then checks out
        for item in items:
            assert api.post("/api/v1/cart", item).status_code == 201
        items = [
            {"product_id": i["product_id"], "quantity": i["quantity"]}
            for i in api.get("/api/v1/cart").get_json()["items"]
        ]
    quote = api.post("/api/v1/orders/quote", {"items": items, **choice})
    assert quote.status_code == 200, quote.get_json()
    quoted = quote.get_json()["orders"]

    address_id = create_address(buyer)
    if basket["from_cart"]:
        seller = sellers[basket["products"][0]["seller"]]
        body = {"from_cart": True, "merchant_id": seller.id, "address_id": address_id}
    else:
        body = {"items": items, "address_id": address_id}
    placed = place(api, {**body, **choice})
    chosen_in_quote = {c["id"] for o in quoted for c in o["coupons"] if c["chosen"]}
    if placed.status_code == 409:
        # A chosen coupon that fits none of the orders: the quote did not apply it either.
        assert placed.get_json()["error"]["code"] == "coupon_not_applicable"
        assert set(choice["coupon_ids"]) - chosen_in_quote
        return
    assert placed.status_code == 201, placed.get_json()
    orders = placed.get_json()["orders"]
    assert [_quoted(o) for o in quoted] == [_placed(o) for o in orders]
    if "coupon_ids" in choice:
        assert chosen_in_quote == set(choice["coupon_ids"])

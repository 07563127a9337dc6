"""Many buyers at once, each in its own thread, request and database session: never oversell."""

from __future__ import annotations

import threading
import uuid

from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.orders.models import FlashSale, Order, OrderLine, PurchaseCounter
from tests.commerce.orders.conftest import buy_now

RACERS = 20


def race(calls):
    """Start every call at the same moment; return their status codes."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def order_call(api, body):
    key = uuid.uuid4().hex
    return lambda: api.post("/api/v1/orders", body, headers={"Idempotency-Key": key}).status_code


def test_racing_buyers_get_exactly_the_last_units(
    app, create_user, create_product, create_address, make_api
):
    product = create_product(create_user(merchant=True), stock=5)
    calls = []
    for _ in range(RACERS):
        buyer = create_user()
        calls.append(order_call(make_api(buyer), buy_now(product.id, create_address(buyer))))
    codes = race(calls)
    assert sorted(codes) == [201] * 5 + [409] * (RACERS - 5)
    with app.app_context():
        assert db.session.get(Product, product.id).stock == 0
        assert db.session.query(Order).count() == 5


def test_one_buyer_racing_against_the_per_buyer_limit(
    app, create_user, create_product, create_address, make_api
):
    product = create_product(create_user(merchant=True), stock=100, per_buyer_limit=3)
    buyer = create_user()
    address_id = create_address(buyer)
    # Each racer is its own browser session of the same buyer.
    calls = [order_call(make_api(buyer), buy_now(product.id, address_id)) for _ in range(RACERS)]
    codes = race(calls)
    assert sorted(codes) == [201] * 3 + [409] * (RACERS - 3)
    with app.app_context():
        assert db.session.get(Product, product.id).stock == 97
        assert db.session.get(PurchaseCounter, (buyer.id, product.id)).quantity == 3


def test_one_buyer_racing_with_two_lines_of_one_product(
    app, create_user, create_product, create_address, make_api
):
    """Each order has two lines of the product (2 + 2): the limit of 5 lets exactly one in."""
    product = create_product(create_user(merchant=True), stock=100, per_buyer_limit=5)
    buyer = create_user()
    address_id = create_address(buyer)
    item = {"product_id": product.id, "quantity": 2}
    body = {"items": [item, item], "address_id": address_id}
    calls = [order_call(make_api(buyer), body) for _ in range(RACERS)]
    codes = race(calls)
    assert sorted(codes) == [201] + [409] * (RACERS - 1)
    with app.app_context():
        assert db.session.get(Product, product.id).stock == 96
        assert db.session.get(PurchaseCounter, (buyer.id, product.id)).quantity == 4


def test_racing_for_a_flash_sale(
    app, create_user, create_product, create_address, create_flash, make_api
):
    product = create_product(create_user(merchant=True), stock=50)
    flash_id = create_flash(product.id, quantity=4)
    calls = []
    for _ in range(RACERS):
        buyer = create_user()
        calls.append(order_call(make_api(buyer), buy_now(product.id, create_address(buyer))))
    codes = race(calls)
    # Racers who saw the sale on and lost get 409; those who came after it sold out pay the
    # list price. Exactly 4 units go at the flash price either way.
    assert set(codes) <= {201, 409}
    with app.app_context():
        assert db.session.get(FlashSale, flash_id).sold == 4
        flash_units = db.session.query(OrderLine).filter_by(flash_sale_id=flash_id).count()
        assert flash_units == 4
        assert db.session.get(Product, product.id).stock == 50 - codes.count(201)


def test_the_same_key_racing_makes_one_order(
    app, create_user, create_product, create_address, make_api
):
    product = create_product(create_user(merchant=True), stock=50)
    buyer = create_user()
    body = buy_now(product.id, create_address(buyer))
    apis = [make_api(buyer) for _ in range(RACERS)]

    def call(api):
        def post():
            response = api.post("/api/v1/orders", body, headers={"Idempotency-Key": "one-attempt"})
            return response.status_code, response.headers.get("Idempotent-Replayed"), response.json

        return post

    answers = race([call(api) for api in apis])
    # The duplicates wait for the first to commit, then get its answer replayed.
    assert [status for status, _replayed, _body in answers] == [201] * RACERS
    assert sorted(str(replayed) for _s, replayed, _b in answers) == ["None"] + ["true"] * (
        RACERS - 1
    )
    assert len({body["orders"][0]["id"] for _s, _r, body in answers}) == 1
    with app.app_context():
        assert db.session.query(Order).count() == 1
        assert db.session.get(Product, product.id).stock == 49

"""Addresses, cart, placing orders: snapshots, reservations, limits, flash sales, permissions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.live.models import LivePin, LiveRoom, LiveShelfItem
from commerce.orders.models import FlashSale, Order, OrderLine, PurchaseCounter
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import ADDRESS, buy_now, place


def stock_of(app, product_id):
    with app.app_context():
        return db.session.get(Product, product_id).stock


def order_count(app):
    with app.app_context():
        return db.session.query(Order).count()


# Addresses


def test_addresses_are_saved_edited_and_deleted_by_their_owner(make_api, create_user):
    owner, other = make_api(create_user()), make_api(create_user())
    created = owner.post("/api/v1/addresses", ADDRESS)
    assert created.status_code == 201
    address_id = created.get_json()["id"]
    edited = owner.put(f"/api/v1/addresses/{address_id}", {**ADDRESS, "city": "Hangzhou"})
    assert edited.get_json()["city"] == "Hangzhou"
    assert [a["id"] for a in owner.get("/api/v1/addresses").get_json()["items"]] == [address_id]
    assert other.get("/api/v1/addresses").get_json()["items"] == []
    assert other.put(f"/api/v1/addresses/{address_id}", ADDRESS).status_code == 404
    assert other.delete(f"/api/v1/addresses/{address_id}").status_code == 404
    assert owner.delete(f"/api/v1/addresses/{address_id}").status_code == 204


def test_bad_address_is_refused_with_the_field(make_api, create_user):
    response = make_api(create_user()).post("/api/v1/addresses", {**ADDRESS, "phone": "call me"})
    assert response.status_code == 400
    assert "phone" in response.get_json()["error"]["fields"]


# Cart


def test_cart_remembers_the_source_and_adds_up(buyer_setup, create_video, create_user):
    api, product, _address, _buyer, _merchant = buyer_setup()
    video = create_video(create_user(creator=True))
    body = {"product_id": product.id, "quantity": 2, "source_kind": "video", "source_key": video}
    assert api.post("/api/v1/cart", body).status_code == 201
    item = api.post("/api/v1/cart", {"product_id": product.id}).get_json()
    assert item["quantity"] == 3 and item["source_key"] == video
    changed = api.patch(f"/api/v1/cart/{item['id']}", {"quantity": 1})
    assert changed.get_json()["quantity"] == 1
    assert api.delete(f"/api/v1/cart/{item['id']}").status_code == 204
    assert api.get("/api/v1/cart").get_json()["items"] == []


def test_another_buyers_cart_item_is_a_404(buyer_setup, make_api, create_user):
    api, product, *_ = buyer_setup()
    item = api.post("/api/v1/cart", {"product_id": product.id}).get_json()
    intruder = make_api(create_user())
    assert intruder.patch(f"/api/v1/cart/{item['id']}", {"quantity": 5}).status_code == 404
    assert intruder.delete(f"/api/v1/cart/{item['id']}").status_code == 404


def test_a_merchant_cannot_buy_their_own_product(make_api, create_user, create_product):
    merchant = create_user(merchant=True)
    product = create_product(merchant)
    response = make_api(merchant).post("/api/v1/cart", {"product_id": product.id})
    assert response.status_code == 400


# Placing orders


def test_buy_now_snapshots_prices_source_and_reserves_stock(
    app, buyer_setup, create_video, create_user
):
    api, product, address_id, _buyer, merchant = buyer_setup(
        price_minor=1290, stock=10, creator_rate_bp=1000, sharer_rate_bp=500
    )
    creator = create_user(creator=True)
    video = create_video(creator, pins=(product.id,))
    response = place(api, buy_now(product.id, address_id, 3, source_kind="video", source_key=video))
    assert response.status_code == 201, response.get_json()
    [order] = response.get_json()["orders"]
    assert order["state"] == "pending_payment"
    assert order["total_minor"] == 3870 and order["merchant_id"] == merchant.id
    assert order["address"]["city"] == "Shanghai"
    [line] = order["lines"]
    assert line["unit_price_minor"] == 1290 and line["list_price_minor"] == 1290
    assert line["creator_id"] == creator.id and line["source_key"] == video
    assert stock_of(app, product.id) == 7
    with app.app_context():
        stored = db.session.query(Order).one()
        assert stored.lines[0].creator_rate_bp == 1000 and stored.lines[0].sharer_rate_bp == 500
        deadline = stored.expires_at - stored.created_at
        assert deadline == timedelta(minutes=app.config["PAYMENT_DEADLINE_MINUTES"])


def test_a_draft_or_unknown_video_credits_no_creator(buyer_setup, create_video, create_user):
    api, product, address_id, *_ = buyer_setup()
    draft = create_video(create_user(creator=True), published=False, pins=(product.id,))
    for key in (draft, "nosuchvideo"):
        body = buy_now(product.id, address_id, source_kind="video", source_key=key)
        [order] = place(api, body).get_json()["orders"]
        assert order["lines"][0]["creator_id"] is None


def _room(app, creator, *, started: bool, shelf=(), pins=()) -> str:
    with app.app_context():
        room = LiveRoom(
            public_id=uuid.uuid4().hex[:12],
            creator_id=creator.id,
            title="Tea tasting",
            state="live" if started else "scheduled",
            started_at=utcnow() if started else None,
        )
        db.session.add(room)
        db.session.flush()
        db.session.add_all(LiveShelfItem(room_id=room.id, product_id=p) for p in shelf)
        db.session.add_all(
            LivePin(room_id=room.id, product_id=p, pinned_by_id=creator.id, pinned_at=utcnow())
            for p in pins
        )
        db.session.commit()
        return room.public_id


# What the content featured -> is its creator credited for a line of the product bought there?
CONTENT_CASES = [
    ("video", {"pins": "product"}, True),
    ("video", {"pins": "other"}, False),  # the creator's video, but it never showed the product
    ("video", {"pins": None}, False),
    ("live", {"shelf": "product"}, True),
    ("live", {"pins": "product"}, True),  # pinned during the show without being on the shelf
    ("live", {"shelf": "other", "pins": "other"}, False),
    ("live", {"shelf": "product", "started": False}, False),  # never went live
]


@pytest.mark.parametrize(("kind", "featured", "credited"), CONTENT_CASES)
def test_the_creator_is_credited_only_for_content_that_featured_the_product(
    app, buyer_setup, create_video, create_user, create_product, kind, featured, credited
):
    api, product, address_id, _buyer, merchant = buyer_setup(creator_rate_bp=1000)
    other = create_product(merchant, title="Teapot")
    creator = create_user(creator=True)
    ids = {"product": (product.id,), "other": (other.id,), None: ()}
    if kind == "video":
        key = create_video(creator, pins=ids[featured["pins"]])
    else:
        key = _room(
            app,
            creator,
            started=featured.get("started", True),
            shelf=ids[featured.get("shelf")],
            pins=ids[featured.get("pins")],
        )
    body = buy_now(product.id, address_id, source_kind=kind, source_key=key)
    [order] = place(api, body).get_json()["orders"]
    [line] = order["lines"]
    assert line["source_key"] == key  # the source is kept either way: shares of it still win
    assert line["creator_id"] == (creator.id if credited else None)


def test_idempotency_key_is_required(buyer_setup):
    api, product, address_id, *_ = buyer_setup()
    response = api.post("/api/v1/orders", buy_now(product.id, address_id))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_missing"


def test_same_key_replays_the_first_answer_and_makes_one_order(app, buyer_setup):
    api, product, address_id, *_ = buyer_setup(stock=10)
    first = place(api, buy_now(product.id, address_id, 2), key="k-1")
    again = place(api, buy_now(product.id, address_id, 2), key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == again.get_json()
    assert order_count(app) == 1 and stock_of(app, product.id) == 8


def test_same_key_with_other_parameters_is_422(app, buyer_setup):
    api, product, address_id, *_ = buyer_setup()
    assert place(api, buy_now(product.id, address_id, 1), key="k-2").status_code == 201
    response = place(api, buy_now(product.id, address_id, 2), key="k-2")
    assert response.status_code == 422
    assert order_count(app) == 1


def test_keys_belong_to_one_buyer(app, buyer_setup, create_address, create_user, make_api):
    api, product, address_id, *_ = buyer_setup()
    other = create_user()
    other_address = create_address(other)
    assert place(api, buy_now(product.id, address_id), key="same").status_code == 201
    response = place(make_api(other), buy_now(product.id, other_address), key="same")
    assert response.status_code == 201 and order_count(app) == 2


def test_a_duplicate_while_the_first_is_in_flight_is_409(app, buyer_setup):
    from commerce.orders.idempotency import fingerprint
    from commerce.orders.models import IdempotencyRecord
    from commerce.orders.schemas import OrderIn

    api, product, address_id, buyer, _ = buyer_setup()
    body = buy_now(product.id, address_id)
    with app.app_context():  # what the first request leaves while it is still running
        params = OrderIn.model_validate(body).model_dump(mode="json")
        db.session.add(
            IdempotencyRecord(
                user_id=buyer.id,
                scope="orders.place",
                key="busy",
                request_hash=fingerprint("orders.place", params),
            )
        )
        db.session.commit()
    response = place(api, body, key="busy")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_in_flight"
    assert order_count(app) == 0


def test_out_of_stock_is_409_and_nothing_is_half_written(app, buyer_setup, create_product):
    api, product, address_id, _buyer, merchant = buyer_setup(stock=5)
    scarce = create_product(merchant, title="Scarce", stock=1)
    body = {
        "items": [
            {"product_id": product.id, "quantity": 2},
            {"product_id": scarce.id, "quantity": 2},
        ],
        "address_id": address_id,
    }
    response = place(api, body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "out_of_stock"
    assert stock_of(app, product.id) == 5 and stock_of(app, scarce.id) == 1
    assert order_count(app) == 0
    with app.app_context():
        assert db.session.query(OrderLine).count() == 0
        assert all(c.quantity == 0 for c in db.session.query(PurchaseCounter))


def test_per_buyer_limit_counts_across_orders(app, buyer_setup):
    api, product, address_id, *_ = buyer_setup(stock=10, per_buyer_limit=2)
    assert place(api, buy_now(product.id, address_id, 2)).status_code == 201
    response = place(api, buy_now(product.id, address_id, 1))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "limit_reached"
    assert stock_of(app, product.id) == 8


def test_cart_checkout_makes_one_order_per_merchant(app, buyer_setup, create_user, create_product):
    api, product, address_id, _buyer, merchant = buyer_setup()
    other_merchant = create_user(merchant=True)
    elsewhere = create_product(other_merchant, title="Teapot", price_minor=5000)
    api.post("/api/v1/cart", {"product_id": product.id, "quantity": 2})
    api.post("/api/v1/cart", {"product_id": elsewhere.id})
    body = {"from_cart": True, "merchant_id": merchant.id, "address_id": address_id}
    [order] = place(api, body).get_json()["orders"]
    assert order["merchant_id"] == merchant.id and order["total_minor"] == 2580
    left = api.get("/api/v1/cart").get_json()["items"]
    assert [i["product_id"] for i in left] == [elsewhere.id]
    body = {"from_cart": True, "merchant_id": merchant.id, "address_id": address_id}
    assert place(api, body).status_code == 400  # nothing left from that seller


def test_an_address_of_someone_else_is_a_404(buyer_setup, create_address, create_user):
    api, product, _address, *_ = buyer_setup()
    foreign = create_address(create_user())
    assert place(api, buy_now(product.id, foreign)).status_code == 404


def test_anonymous_cannot_order(make_api, create_user, create_product):
    product = create_product(create_user(merchant=True))
    assert place(make_api(), buy_now(product.id, 1)).status_code == 401


# Flash sales


def test_flash_price_applies_in_its_window_and_counts_sold(app, buyer_setup, create_flash):
    api, product, address_id, *_ = buyer_setup(price_minor=1290, stock=10)
    flash_id = create_flash(product.id, price_minor=990, quantity=3)
    [order] = place(api, buy_now(product.id, address_id, 2)).get_json()["orders"]
    line = order["lines"][0]
    assert line["unit_price_minor"] == 990 and line["flash_sale_id"] == flash_id
    assert line["list_price_minor"] == 1290
    with app.app_context():
        assert db.session.get(FlashSale, flash_id).sold == 2
    response = place(api, buy_now(product.id, address_id, 2))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "flash_sold_out"
    assert stock_of(app, product.id) == 8


def test_flash_sale_outside_its_window_gives_the_list_price(buyer_setup, create_flash):
    api, product, address_id, *_ = buyer_setup(price_minor=1290)
    now = utcnow()
    create_flash(product.id, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    assert order["lines"][0]["unit_price_minor"] == 1290
    assert order["lines"][0]["flash_sale_id"] is None


def test_flash_per_buyer_limit(buyer_setup, create_flash):
    api, product, address_id, *_ = buyer_setup(stock=10)
    create_flash(product.id, quantity=5, per_buyer_limit=1)
    assert place(api, buy_now(product.id, address_id, 2)).status_code == 409
    assert place(api, buy_now(product.id, address_id, 1)).status_code == 201


def test_merchant_schedules_a_flash_sale_and_the_card_sees_it(
    make_api, create_user, create_product
):
    merchant = create_user(merchant=True)
    product = create_product(merchant, price_minor=1290, stock=10)
    api = make_api(merchant)
    now = utcnow()
    body = {
        "price_minor": 990,
        "starts_at": (now - timedelta(minutes=1)).isoformat() + "Z",
        "ends_at": (now + timedelta(hours=1)).isoformat() + "Z",
        "quantity": 4,
        "per_buyer_limit": 1,
    }
    created = api.post(f"/api/v1/products/{product.id}/flash-sales", body)
    assert created.status_code == 201, created.get_json()
    overlap = api.post(f"/api/v1/products/{product.id}/flash-sales", body)
    assert overlap.status_code == 409
    info = make_api().get(f"/api/v1/products/{product.id}/buy-info").get_json()
    assert info["unit_price_minor"] == 990 and info["flash"]["on"] is True
    assert info["flash"]["remaining"] == 4 and "server_now" in info
    too_many = api.post(
        f"/api/v1/products/{product.id}/flash-sales",
        {
            **body,
            "quantity": 11,
            "starts_at": body["ends_at"],
            "ends_at": (now + timedelta(hours=3)).isoformat(),
        },
    )
    assert too_many.status_code == 400
    other = make_api(create_user(merchant=True))
    assert other.post(f"/api/v1/products/{product.id}/flash-sales", body).status_code == 404


# Cancel and expiry


def test_buyer_cancels_an_unpaid_order_and_units_come_back(app, buyer_setup, create_flash):
    api, product, address_id, buyer, _ = buyer_setup(stock=10, per_buyer_limit=3)
    flash_id = create_flash(product.id, quantity=5)
    [order] = place(api, buy_now(product.id, address_id, 3)).get_json()["orders"]
    cancelled = api.post(f"/api/v1/orders/{order['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert stock_of(app, product.id) == 10
    with app.app_context():
        assert db.session.get(FlashSale, flash_id).sold == 0
        assert db.session.get(PurchaseCounter, (buyer.id, product.id)).quantity == 0
    again = api.post(f"/api/v1/orders/{order['id']}/cancel")
    assert again.status_code == 409 and "cannot become" in again.get_json()["error"]["message"]
    assert stock_of(app, product.id) == 10


def test_expiry_gives_units_back_exactly_once(app, buyer_setup):
    from commerce.orders.services import do_expire_orders

    api, product, address_id, *_ = buyer_setup(stock=10)
    [order] = place(api, buy_now(product.id, address_id, 4)).get_json()["orders"]
    later = utcnow() + timedelta(minutes=app.config["PAYMENT_DEADLINE_MINUTES"] + 1)
    with app.app_context():
        assert do_expire_orders(db.session, utcnow()) == []  # not yet
        assert len(do_expire_orders(db.session, later)) == 1
        db.session.commit()
        assert do_expire_orders(db.session, later) == []
        db.session.commit()
    assert stock_of(app, product.id) == 10
    assert api.get(f"/api/v1/orders/{order['id']}").get_json()["state"] == "cancelled"
    assert api.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409
    assert stock_of(app, product.id) == 10


def test_the_periodic_expiry_job_is_registered(app):
    from commerce.jobs.runner import PERIODIC
    from commerce.orders.jobs import expire_unpaid_orders

    assert any(task.run is expire_unpaid_orders for task in PERIODIC)


# Permissions on orders


def test_other_buyers_and_other_merchants_get_404(buyer_setup, make_api, create_user):
    api, product, address_id, *_ = buyer_setup()
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    stranger = make_api(create_user())
    other_merchant = make_api(create_user(merchant=True))
    for client in (stranger, other_merchant):
        assert client.get(f"/api/v1/orders/{order['id']}").status_code == 404
        assert client.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 404
    ship = other_merchant.post(f"/api/v1/orders/{order['id']}/ship", {"tracking_number": "SF123"})
    assert ship.status_code == 404


def test_merchant_cannot_ship_an_unpaid_order(buyer_setup, make_api):
    api, product, address_id, _buyer, merchant = buyer_setup()
    [order] = place(api, buy_now(product.id, address_id)).get_json()["orders"]
    response = make_api(merchant).post(
        f"/api/v1/orders/{order['id']}/ship", {"tracking_number": "SF123"}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"
    listed = make_api(merchant).get("/api/v1/orders?role=merchant").get_json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]


# Per-buyer limits count the product, not the line: (earlier purchase, lines now) under 100.
LIMIT_CASES = [
    (0, [99, 99], 409),  # two lines of one product: 198 in all
    (0, [60, 40], 201),
    (60, [30, 20], 409),  # with what the buyer bought before
    (60, [30, 10], 201),
]


@pytest.mark.parametrize(("before", "lines", "status"), LIMIT_CASES)
def test_the_per_buyer_limit_counts_every_line_of_the_product(
    app, buyer_setup, before, lines, status
):
    api, product, address_id, buyer, _ = buyer_setup(stock=500, per_buyer_limit=100)
    if before:
        assert place(api, buy_now(product.id, address_id, before)).status_code == 201
    items = [{"product_id": product.id, "quantity": n} for n in lines]
    response = place(api, {"items": items, "address_id": address_id})
    assert response.status_code == status, response.get_json()
    with app.app_context():
        held = db.session.get(PurchaseCounter, (buyer.id, product.id))
        assert (held.quantity if held else 0) == before + (sum(lines) if status == 201 else 0)
    assert stock_of(app, product.id) == 500 - before - (sum(lines) if status == 201 else 0)
    if status == 409:
        error = response.get_json()["error"]
        assert error["code"] == "limit_reached"
        assert error["message"] == (
            f"You can buy at most 100 of Tea cup per person (already bought: {before}, "
            f"asked for now: {sum(lines)})."
        )
        zh = api.post(
            "/api/v1/orders",
            {"items": items, "address_id": address_id},
            headers={"Idempotency-Key": uuid.uuid4().hex, "Accept-Language": "zh-CN"},
        )
        assert zh.status_code == 409 and "Tea cup" in zh.get_json()["error"]["message"]
        assert "You can buy" not in zh.get_json()["error"]["message"]


def test_the_cart_refuses_more_than_the_limit_and_checkout_counts_the_total(app, buyer_setup):
    api, product, address_id, _buyer, merchant = buyer_setup(stock=500, per_buyer_limit=100)
    assert api.post("/api/v1/cart", {"product_id": product.id, "quantity": 99}).status_code == 201
    second = api.post("/api/v1/cart", {"product_id": product.id, "quantity": 99})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "limit_reached"
    assert "asked for now: 198" in second.get_json()["error"]["message"]
    [item] = api.get("/api/v1/cart").get_json()["items"]
    assert item["quantity"] == 99  # unchanged by the refused add
    assert place(api, buy_now(product.id, address_id, 2)).status_code == 201  # now holds 2
    body = {"from_cart": True, "merchant_id": merchant.id, "address_id": address_id}
    refused = place(api, body)  # 99 in the cart + 2 bought > 100
    assert refused.status_code == 409
    assert "already bought: 2, asked for now: 99" in refused.get_json()["error"]["message"]
    assert stock_of(app, product.id) == 498

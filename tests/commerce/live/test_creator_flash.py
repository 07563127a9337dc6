"""Creators' flash sales within the merchant's bounds, and flash sales shown on every card."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest

from commerce.timeutil import rfc3339, utcnow
from tests.commerce.live.conftest import received

ROOMS = "/api/v1/live/rooms"
BOUNDS = {
    "creator_flash": "all",
    "creator_flash_min_price_minor": 5000,
    "creator_flash_max_quantity": 10,
    "creator_flash_max_seconds": 600,
}


@pytest.fixture
def merchant(create_user):
    return create_user(merchant=True, name="Tea shop")


@pytest.fixture
def creator(create_user):
    return create_user(creator=True, name="Streamer")


@pytest.fixture
def product(make_api, merchant):
    """A merchant's ¥129.00 product open to creators' flash sales from ¥50.00, 10 units, 10 min."""
    body = {"title": "Tea set", "price_minor": 12900, "stock": 50, **BOUNDS}
    response = make_api(merchant).post("/api/v1/products", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def creator_room(make_room, creator, product):
    """The creator's live room featuring the product, pinned."""
    api, room_id = make_room(owner=creator, products=[SimpleNamespace(id=product["id"])])
    assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": product["id"]}).status_code == 201
    return api, room_id


def sale(product_id: int, **fields):
    return {
        "product_id": product_id,
        "price_minor": 5990,
        "duration_seconds": 300,
        "quantity": 5,
        **fields,
    }


def test_product_api_stores_the_bounds_and_shows_them_to_merchant_and_creators_only(
    make_api, merchant, creator, create_user, product
):
    assert product["creator_flash"] == {
        "scope": "all",
        "min_price_minor": 5000,
        "min_price_display": "¥50.00",
        "max_quantity": 10,
        "max_seconds": 600,
    }
    url = f"/api/v1/products/{product['id']}"
    assert make_api(creator).get(url).get_json()["creator_flash"]["max_quantity"] == 10
    assert make_api(create_user()).get(url).get_json()["creator_flash"] is None  # a buyer
    assert make_api().get(url).get_json()["creator_flash"] is None
    closed = {"title": "Tea set", "price_minor": 12900, "stock": 50, "creator_flash": "none"}
    updated = make_api(merchant).put(url, closed).get_json()
    assert updated["creator_flash"]["scope"] == "none"
    assert make_api(creator).get(url).get_json()["creator_flash"] is None


@pytest.mark.parametrize(
    ("bounds", "fields"),
    [
        (
            {"creator_flash": "all"},
            {
                "creator_flash_min_price_minor",
                "creator_flash_max_quantity",
                "creator_flash_max_seconds",
            },
        ),
        ({**BOUNDS, "creator_flash_min_price_minor": 12900}, {"creator_flash_min_price_minor"}),
        ({**BOUNDS, "creator_flash_max_seconds": 5}, {"creator_flash_max_seconds"}),
        ({**BOUNDS, "creator_flash": "some"}, {"creator_flash"}),
    ],
)
def test_opening_flash_sales_to_creators_needs_every_bound(make_api, merchant, bounds, fields):
    body = {"title": "Tea set", "price_minor": 12900, "stock": 50, **bounds}
    response = make_api(merchant).post("/api/v1/products", body)
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()["error"]["fields"]) == fields


def test_a_creator_starts_a_flash_sale_within_the_bounds_and_a_viewer_pays_it(
    make_api, create_user, creator_room, product
):
    api, room_id = creator_room
    response = api.post(f"{ROOMS}/{room_id}/flash-sales", sale(product["id"]))
    assert response.status_code == 201, response.get_json()
    [pin] = response.get_json()["pins"]
    assert pin["flash"]["price_display"] == "¥59.90" and pin["flash"]["phase"] == "on"
    buyer = make_api(create_user())
    address = buyer.post(
        "/api/v1/addresses", {"name": "Li", "phone": "123456", "line1": "1 Road", "city": "SH"}
    ).get_json()["id"]
    item = {
        "product_id": product["id"],
        "quantity": 1,
        "source_kind": "live",
        "source_key": room_id,
    }
    order = buyer.post(
        "/api/v1/orders",
        {"address_id": address, "items": [item]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert order.status_code == 201, order.get_json()
    [placed] = order.get_json()["orders"]
    assert placed["total_minor"] == 5990 and placed["lines"][0]["flash_sale_id"] is not None


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"price_minor": 4999}, {"price_minor"}),
        ({"quantity": 11}, {"quantity"}),
        ({"duration_seconds": 601}, {"duration_seconds"}),
        (
            {"price_minor": 100, "quantity": 50, "duration_seconds": 3600},
            {"price_minor", "quantity", "duration_seconds"},
        ),
    ],
)
def test_outside_the_bounds_each_bound_is_named(creator_room, product, fields, refused):
    api, room_id = creator_room
    response = api.post(f"{ROOMS}/{room_id}/flash-sales", sale(product["id"], **fields))
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert set(error["fields"]) == refused
    assert error["message"] == "This flash sale is outside the bounds the seller set."


def test_refusals_are_translated(creator_room, product):
    api, room_id = creator_room
    response = api.post(
        f"{ROOMS}/{room_id}/flash-sales",
        sale(product["id"], price_minor=100),
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    error = response.get_json()["error"]
    assert error["message"] == "此秒杀超出了商家设定的范围。"
    assert error["fields"]["price_minor"] == "低于商家设定的最低秒杀价 ¥50.00。"


def test_a_product_closed_to_creators_is_refused(make_room, merchant, create_product, creator):
    closed = create_product(merchant, price_minor=12900, stock=50)
    api, room_id = make_room(owner=creator, products=[closed])
    assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": closed.id}).status_code == 201
    response = api.post(f"{ROOMS}/{room_id}/flash-sales", sale(closed.id))
    assert response.status_code == 403
    assert "does not let creators" in response.get_json()["error"]["message"]


def test_the_merchant_hosting_runs_any_flash_sale_of_their_product(make_room, shelf):
    api, room_id = make_room()  # the host sells the shelf: no creator bounds apply
    assert api.post(f"{ROOMS}/{room_id}/pins", {"product_id": shelf[1].id}).status_code == 201
    anything = sale(shelf[1].id, price_minor=1, quantity=20, duration_seconds=3600)
    assert api.post(f"{ROOMS}/{room_id}/flash-sales", anything).status_code == 201


def test_a_flash_sale_started_before_the_pin_shows_on_the_pin_and_the_shelf(
    app, make_api, make_room, merchant, creator, product, client
):
    api, room_id = make_room(owner=creator, products=[SimpleNamespace(id=product["id"])])
    shelf = client.get(f"{ROOMS}/{room_id}/pins").get_json()
    assert shelf["shelf_flashes"] == []
    now = utcnow()
    scheduled = make_api(merchant).post(
        f"/api/v1/products/{product['id']}/flash-sales",
        {
            "price_minor": 5990,
            "starts_at": rfc3339(now - timedelta(seconds=1)),
            "ends_at": rfc3339(now + timedelta(minutes=10)),
            "quantity": 5,
        },
    )
    assert scheduled.status_code == 201, scheduled.get_json()
    shelf = client.get(f"{ROOMS}/{room_id}/pins").get_json()
    [on_shelf] = shelf["shelf_flashes"]
    assert (on_shelf["product_id"], on_shelf["price_display"]) == (product["id"], "¥59.90")
    assert on_shelf["phase"] == "on" and on_shelf["seconds_left"] > 590
    pins = api.post(f"{ROOMS}/{room_id}/pins", {"product_id": product["id"]}).get_json()
    [pin] = pins["pins"]
    assert pin["flash"]["id"] == scheduled.get_json()["id"]
    assert pin["flash"]["price_display"] == "¥59.90"


def test_a_flash_sale_scheduled_while_the_room_is_open_reaches_its_viewers(
    make_api, make_room, connect, create_user, merchant, creator, product
):
    _api, room_id = make_room(owner=creator, products=[SimpleNamespace(id=product["id"])])
    viewer = connect(create_user())
    ack = viewer.emit("live.join", {"room": room_id}, callback=True)
    assert ack["ok"] and ack["snapshot"]["pins"]["shelf_flashes"] == []
    viewer.get_received()
    now = utcnow()
    made = make_api(merchant).post(
        f"/api/v1/products/{product['id']}/flash-sales",
        {
            "price_minor": 5990,
            "starts_at": rfc3339(now + timedelta(seconds=30)),
            "ends_at": rfc3339(now + timedelta(minutes=10)),
            "quantity": 5,
        },
    )
    assert made.status_code == 201, made.get_json()
    pins = received(viewer, "live.pins")
    assert len(pins) == 1
    [upcoming] = pins[0]["shelf_flashes"]
    assert upcoming["phase"] == "upcoming" and 25 < upcoming["seconds_to_start"] <= 30

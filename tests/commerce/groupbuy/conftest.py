"""Group buying helpers: a campaign, placing a group order, paying it through the sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from commerce.extensions import db
from commerce.groupbuy.models import Group
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.commerce.payments.conftest import (  # noqa: F401  (fixtures)
    deliver,
    pay_with,
    start_payment,
    webhook_inbox,
)

CARD = "4242424242424242"


def campaign_body(**fields: Any) -> dict[str, Any]:
    return {"price_minor": 700, "group_size": 3, "window_minutes": 60, **fields}


@pytest.fixture
def campaign(create_user, create_product, make_api):
    """A merchant's product at 1000 with a group campaign at 700 for groups of `size`."""

    def make(**fields: Any) -> dict[str, Any]:
        merchant = create_user(merchant=True)
        product = create_product(
            merchant,
            price_minor=1_000,
            stock=fields.pop("stock", 100),
            sharer_rate_bp=fields.pop("sharer_rate_bp", 0),
        )
        seller = make_api(merchant)
        made = seller.post(
            f"/api/v1/products/{product.id}/group-campaigns", campaign_body(**fields)
        )
        assert made.status_code == 201, made.get_json()
        return {
            "merchant": merchant,
            "seller": seller,
            "product": product,
            "id": made.get_json()["id"],
        }

    return make


@pytest.fixture
def shopper(create_user, create_address, make_api):  # noqa: F811
    def make(name: str = "Buyer") -> dict[str, Any]:
        user = create_user(name=name)
        return {"user": user, "api": make_api(user), "address_id": create_address(user)}

    return make


def group_order(who: dict[str, Any], product_id: int, group_id: str | None = None) -> Any:
    body: dict[str, Any] = {"product_id": product_id, "address_id": who["address_id"]}
    if group_id:
        body["group_id"] = group_id
    return who["api"].post(
        "/api/v1/group-orders", body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


def pay(app: Flask, who: dict[str, Any], order_id: str) -> None:
    payment = start_payment(who["api"], order_id)
    assert payment.status_code == 201, payment.get_json()
    pay_with(who["api"], payment.get_json()["pay_url"], CARD)
    deliver(app)


def group_row(app: Flask, public_id: str) -> Group:
    with app.app_context():
        group = db.session.query(Group).filter_by(public_id=public_id).one()
        db.session.expunge(group)
        return group

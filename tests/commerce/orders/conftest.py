"""Factories for buying tests: addresses, videos to buy from, flash sales, placing orders."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.orders.models import Address, FlashSale
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoPin

ADDRESS = {
    "name": "Li Wei",
    "phone": "+86 138 0000 0000",
    "line1": "1 Nanjing Road",
    "city": "Shanghai",
    "postal_code": "200000",
    "country": "CN",
}


@pytest.fixture
def create_address(app: Flask):
    def create(user: User, **fields: Any) -> int:
        with app.app_context():
            address = Address(user_id=user.id, **{**ADDRESS, **fields})
            db.session.add(address)
            db.session.commit()
            return address.id

    return create


@pytest.fixture
def create_video(app: Flask):
    def create(creator: User, *, published: bool = True, pins: tuple[int, ...] = ()) -> str:
        """A video by `creator` that pins the products `pins` (content credit needs a pin)."""
        with app.app_context():
            video = Video(
                public_id=uuid.uuid4().hex[:12],
                creator_id=creator.id,
                title="Tea time",
                state="ready",
                playable=True,
                published_at=utcnow() if published else None,
            )
            video.pins = [VideoPin(product_id=p, start_ms=0) for p in pins]
            db.session.add(video)
            db.session.commit()
            return video.public_id

    return create


@pytest.fixture
def create_flash(app: Flask):
    def create(product_id: int, **fields: Any) -> int:
        now = utcnow()
        values: dict[str, Any] = {
            "price_minor": 990,
            "starts_at": now - timedelta(minutes=5),
            "ends_at": now + timedelta(hours=1),
            "quantity": 5,
            "per_buyer_limit": None,
        }
        values.update(fields)
        with app.app_context():
            flash = FlashSale(product_id=product_id, **values)
            db.session.add(flash)
            db.session.commit()
            return flash.id

    return create


def place(api: Any, body: dict[str, Any], key: str | None = None) -> Any:
    """POST /api/v1/orders with a fresh Idempotency-Key unless one is given."""
    return api.post("/api/v1/orders", body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def buy_now(product_id: int, address_id: int, quantity: int = 1, **source: Any) -> dict:
    return {
        "items": [{"product_id": product_id, "quantity": quantity, **source}],
        "address_id": address_id,
    }


@pytest.fixture
def buyer_setup(create_user, create_product, create_address, make_api):
    """A merchant's product and a logged-in buyer with a saved address."""

    def setup(**product_fields: Any) -> tuple[Any, Any, int, User, User]:
        merchant = create_user(merchant=True)
        product = create_product(merchant, **product_fields)
        buyer = create_user()
        address_id = create_address(buyer)
        return make_api(buyer), product, address_id, buyer, merchant

    return setup

"""Review fixtures: a delivered (or not yet delivered) order of a product, straight in the
database, so each test drives the review itself through the app."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from commerce.timeutil import utcnow
from commerce.videos.models import Video, VideoPin


@pytest.fixture
def create_order(app: Flask):
    def create(buyer: User, product: Product, *, delivered: bool = True, lines: int = 1) -> dict:
        now = utcnow()
        with app.app_context():
            order = Order(
                public_id=uuid.uuid4().hex[:12],
                buyer_id=buyer.id,
                merchant_id=product.merchant_id,
                state="delivered" if delivered else "shipped",
                fulfilment="delivered" if delivered else "shipped",
                currency=product.currency,
                subtotal_minor=product.price_minor * lines,
                total_minor=product.price_minor * lines,
                address={"name": "Li Wei", "line1": "1 Nanjing Road", "city": "Shanghai"},
                paid_at=now - timedelta(days=3),
                shipped_at=now - timedelta(days=2),
                delivered_at=now - timedelta(days=1) if delivered else None,
            )
            for _n in range(lines):
                order.lines.append(
                    OrderLine(
                        product_id=product.id,
                        title=product.title,
                        list_price_minor=product.price_minor,
                        unit_price_minor=product.price_minor,
                        quantity=1,
                        amount_minor=product.price_minor,
                    )
                )
            db.session.add(order)
            db.session.commit()
            return {"id": order.public_id, "lines": [line.id for line in order.lines]}

    return create


@pytest.fixture
def create_video(app: Flask):
    def create(creator: User, *, pins: tuple[int, ...] = (), **fields: Any) -> str:
        with app.app_context():
            video = Video(
                public_id=uuid.uuid4().hex[:12],
                creator_id=creator.id,
                title=fields.pop("title", "Tea time"),
                state="ready",
                playable=True,
                published_at=fields.pop("published_at", utcnow()),
                **fields,
            )
            video.pins = [VideoPin(product_id=p, start_ms=0) for p in pins]
            db.session.add(video)
            db.session.commit()
            return video.public_id

    return create


@pytest.fixture
def make_admin(app: Flask):
    def make(user: User) -> User:
        with app.app_context():
            db.session.get(User, user.id).is_admin = True
            db.session.commit()
        return user

    return make

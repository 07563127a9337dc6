"""Factories for attribution tests: published videos, shares, clicks, paid and credited orders."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from commerce.accounts.models import User
from commerce.attribution import ledger
from commerce.attribution.crediting import do_credit_order, policy_from_config
from commerce.attribution.fraud import flags_for_order, settings_from_config
from commerce.attribution.links import make_token
from commerce.attribution.models import Share, ShareClick
from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from commerce.orders.rules import PAID
from commerce.timeutil import utcnow
from commerce.videos.models import Video
from tests.commerce.payments.conftest import webhook_inbox  # noqa: F401  (shared fixture)

# A person tapping the link in a chat app's web page: a user-activated top-level navigation.
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
}


@pytest.fixture
def create_video(app: Flask):
    def create(creator: User, *, title: str = "Tea ceremony", published: bool = True) -> Video:
        with app.app_context():
            video = Video(
                public_id=secrets.token_hex(6),
                creator_id=creator.id,
                title=title,
                description="How to brew",
                playable=True,
                published_at=utcnow() if published else None,
            )
            db.session.add(video)
            db.session.commit()
            db.session.refresh(video)
            db.session.expunge(video)
            return video

    return create


def token_for(app: Flask, share_id: int) -> str:
    return make_token(app.config["SECRET_KEY"], share_id)


@pytest.fixture
def share_link(app: Flask):
    """POST /api/v1/shares as `client`; returns the JSON."""

    def make(client: Any, kind: str, key: str) -> dict:
        response = client.post("/api/v1/shares", {"target_kind": kind, "target_key": key})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


def open_link(client: Any, url: str, **headers: str) -> Any:
    """A person opening the link in a tab (the test client plays the browser)."""
    path = url.split("localhost", 1)[-1]
    return client.client.get(path, headers={**BROWSER, **headers})


@pytest.fixture
def add_click(app: Flask):
    def add(
        share_id: int,
        *,
        visitor: str,
        user_id: int | None = None,
        at: datetime | None = None,
        ip_hash: str = "ip",
        ad: bool = False,
    ) -> int:
        with app.app_context():
            click = ShareClick(
                share_id=share_id,
                visitor_id=visitor,
                user_id=user_id,
                ip_hash=ip_hash,
                user_agent_hash="ua",
                ad_click_id=ad,
                at=at or utcnow(),
            )
            db.session.add(click)
            db.session.commit()
            return click.id

    return add


@pytest.fixture
def add_share(app: Flask):
    def add(
        sharer: User, kind: str, key: str, *, parent: int | None = None, device: str | None = None
    ) -> int:
        with app.app_context():
            parent_share = db.session.get(Share, parent) if parent else None
            share = Share(
                sharer_id=sharer.id,
                target_kind=kind,
                target_key=key,
                parent_id=parent,
                device_id=device,
                depth=parent_share.depth + 1 if parent_share else 0,
                root_id=(parent_share.root_id or parent_share.id) if parent_share else None,
            )
            db.session.add(share)
            db.session.commit()
            return share.id

    return add


@pytest.fixture
def paid_order(app: Flask):
    """An order for one product, paid now and credited as the lead's crediting does it."""

    def make(
        buyer: User,
        product: Product,
        *,
        video: Video | None = None,
        quantity: int = 1,
        device_id: str | None = None,
        ip_hash: str | None = None,
        now: datetime | None = None,
        flag: bool = True,
    ) -> str:
        now = now or utcnow()
        with app.app_context():
            amount = product.price_minor * quantity
            order = Order(
                public_id=secrets.token_hex(8),
                buyer_id=buyer.id,
                merchant_id=product.merchant_id,
                state=PAID,
                currency=product.currency,
                subtotal_minor=amount,
                total_minor=amount,
                device_id=device_id,
                ip_hash=ip_hash,
                paid_at=now,
            )
            order.lines.append(
                OrderLine(
                    product_id=product.id,
                    title=product.title,
                    list_price_minor=product.price_minor,
                    unit_price_minor=product.price_minor,
                    quantity=quantity,
                    amount_minor=amount,
                    creator_rate_bp=product.creator_rate_bp,
                    sharer_rate_bp=product.sharer_rate_bp,
                    source_kind="video" if video else None,
                    source_key=video.public_id if video else None,
                    creator_id=video.creator_id if video else None,
                )
            )
            db.session.add(order)
            db.session.flush()
            commissions = do_credit_order(
                db.session,
                order,
                policy_from_config(app.config),
                now,
                app.config["ATTRIBUTION_WINDOW_DAYS"],
                settings_from_config(app.config),
            )
            if flag:
                flags_for_order(
                    db.session, order, commissions, now, settings_from_config(app.config)
                )
            db.session.commit()
            return order.public_id

    return make


def set_user(app, user_id: int, **fields) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()


@pytest.fixture
def world(app, create_user, create_product, create_video, add_share):
    creator = create_user(creator=True, name="Cora")
    merchant = create_user(merchant=True)
    sharer = create_user(name="Sam", email="sam.smith@gmail.com")
    buyer = create_user(name="Bea")
    product = create_product(merchant, price_minor=10000, creator_rate_bp=1000, sharer_rate_bp=1000)
    video = create_video(creator)
    share = add_share(sharer, "video", video.public_id, device="dev-sam")
    return {
        "creator": creator,
        "sharer": sharer,
        "buyer": buyer,
        "product": product,
        "video": video,
        "share": share,
    }


def deliver_and_release(app, public_id: str) -> int:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        order.delivered_at = utcnow() - timedelta(days=30)
        released = ledger.do_release_due(db.session, utcnow(), app.config["COMMISSION_HOLD_DAYS"])
        db.session.commit()
        return released


def balance(app, user_id: int) -> dict[str, int]:
    with app.app_context():
        return ledger.balances_for(db.session, user_id).get("CNY", {})


@pytest.fixture
def earned(app, world, add_click, paid_order):
    """The sharer has 20.00 available: two sales of 100.00 at 10%, their hold passed."""
    ids = []
    for n in range(2):
        add_click(world["share"], visitor=f"dev{n}", user_id=world["buyer"].id)
        ids.append(paid_order(world["buyer"], world["product"], video=world["video"]))
    for public_id in ids:
        deliver_and_release(app, public_id)
    assert balance(app, world["sharer"].id)["available"] == 2000
    return ids

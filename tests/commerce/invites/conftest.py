"""Invite test factories: the programme's templates, a sharer's link, a visitor who opens it and
signs up, a first order bought, paid, shipped and delivered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.invites import programme as programmes
from commerce.invites import services
from commerce.invites.models import Invitation
from commerce.invites.rules import settings_from_config
from commerce.payments.sandbox import SUCCEEDING_CARDS
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import BROWSER
from tests.commerce.orders.conftest import buy_now, create_address, place  # noqa: F401
from tests.commerce.payments.conftest import (  # noqa: F401  (fixtures)
    deliver,
    pay_with,
    start_payment,
    webhook_inbox,
)
from tests.conftest import PASSWORD


@pytest.fixture
def programme(app: Flask) -> tuple[int, int]:
    """The welcome (¥10 off ¥30) and reward (¥10 off ¥30) platform templates."""
    with app.app_context():
        found = programmes.do_ensure_programme(db.session, programmes.Amounts(), utcnow())
        db.session.commit()
        return found.welcome_template_id, found.reward_template_id


@dataclass
class Person:
    user: User
    api: Any


@pytest.fixture
def sharer(create_user, make_api):
    def make(name: str = "Ann", **fields: Any) -> Person:
        user = create_user(name=name, **fields)
        return Person(user, make_api(user))

    return make


def link_of(person: Person, kind: str = "invite", key: str = "join") -> str:
    made = person.api.post("/api/v1/shares", {"target_kind": kind, "target_key": key})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["url"].split("localhost", 1)[-1]


def open_link(api: Any, path: str, **headers: str) -> Any:
    """A person tapping the link: the click is recorded, the browser gets its visitor id."""
    opened = api.client.get(path, headers={**BROWSER, **headers})
    assert opened.status_code == 302, opened.status_code
    return opened


_counter = {"n": 0}


def sign_up(api: Any, name: str = "Bo", email: str | None = None, ip: str | None = None) -> int:
    """POST /api/v1/auth/signup from `ip` (each sign-up its own network unless told)."""
    _counter["n"] += 1
    ip = ip or f"10.0.{_counter['n'] // 250}.{_counter['n'] % 250 + 1}"
    body = {
        "email": email or f"invitee{_counter['n']}-{uuid.uuid4().hex[:6]}@example.com",
        "password": PASSWORD,
        "display_name": name,
    }
    made = api.post("/api/v1/auth/signup", body, environ_base={"REMOTE_ADDR": ip})
    assert made.status_code == 201, made.get_json()
    api._token = None  # a new session after sign-in
    return int(made.get_json()["id"])


@pytest.fixture
def invitee(make_api):
    """A new browser opens `path` and signs up there; returns (its API client, the user id)."""

    def make(
        path: str, name: str = "Bo", api: Any = None, ip: str | None = None
    ) -> tuple[Any, int]:
        api = api or make_api()
        open_link(api, path)
        return api, sign_up(api, name, ip=ip)

    return make


def invitation_of(app: Flask, user_id: int) -> Invitation | None:
    with app.app_context():
        found = services.open_invitation(db.session, user_id)
        if found is not None:
            db.session.expunge(found)
        return found


@pytest.fixture
def shop(create_user, create_product, make_api):
    """A merchant with a ¥50 product (stock 100)."""

    def make(price_minor: int = 5000) -> dict[str, Any]:
        merchant = create_user(merchant=True, name="Tea House")
        product = create_product(merchant, price_minor=price_minor, stock=100)
        return {"merchant": merchant, "api": make_api(merchant), "product": product}

    return make


@pytest.fixture
def first_order(app: Flask, create_address, webhook_inbox):  # noqa: F811
    """Buy one unit as `api`/`user_id` from `shop`, pay it in the sandbox; returns its public id.

    Each call pays with the next of the sandbox's succeeding test cards unless `card` is given:
    people have cards of their own, and a card shared between invitees is held for review.
    """
    cards = iter(SUCCEEDING_CARDS)

    def buy(
        api: Any, user_id: int, shop: dict[str, Any], card: str | None = None, **body: Any
    ) -> str:
        card = card or next(cards)
        with app.app_context():
            user = db.session.get(User, user_id)
            db.session.expunge(user)
        address_id = create_address(user, **body.pop("address", {}))
        placed = place(api, {**buy_now(shop["product"].id, address_id), **body})
        assert placed.status_code == 201, placed.get_json()
        [order] = placed.get_json()["orders"]
        payment = start_payment(api, order["id"])
        assert payment.status_code == 201, payment.get_json()
        paid = pay_with(api, payment.get_json()["pay_url"], card)
        assert paid.status_code == 302, paid.get_data(as_text=True)
        deliver(app)
        assert api.get(f"/api/v1/orders/{order['id']}").get_json()["state"] == "paid"
        return str(order["id"])

    return buy


def ship_and_deliver(shop: dict[str, Any], order_id: str) -> None:
    api = shop["api"]
    shipped = api.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1"})
    assert shipped.status_code == 200, shipped.get_json()
    delivered = api.post(f"/api/v1/orders/{order_id}/deliver")
    assert delivered.status_code == 200, delivered.get_json()


def settle_all(app: Flask, now: datetime | None = None) -> list[str]:
    """Run the reward job's body at `now` (default: past any hold)."""
    from commerce.invites import settle

    with app.app_context():
        settings = settings_from_config(app.config)
        when = now or utcnow() + settings.hold + timedelta(seconds=1)
        outcomes = []
        for invitation_id in settle.due_candidates(db.session, when, settings):
            invitation = db.session.get(Invitation, invitation_id)
            outcomes.append(settle.do_settle(db.session, invitation, when, settings))
            db.session.commit()
        return outcomes

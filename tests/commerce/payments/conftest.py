"""Payment test helpers: a paid-for order in a few calls, webhooks delivered to the test app."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from flask import Flask

from commerce.jobs.runner import run_pending
from commerce.payments import webhooks
from commerce.payments.provider import SIGNATURE_HEADER, sign, webhook_secret
from tests.commerce.orders.conftest import (  # noqa: F401  (fixtures shared with orders tests)
    buy_now,
    buyer_setup,
    create_address,
    create_flash,
    create_video,
    place,
)


@pytest.fixture
def webhook_inbox(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Route the sandbox's webhook POSTs into this app's test client; record each delivery."""
    deliveries: list[dict[str, Any]] = []
    sender = app.test_client()

    def post(url: str, body: bytes, headers: Any) -> int:
        path = url.split("://", 1)[-1]
        path = path[path.index("/") :]
        response = sender.post(path, data=body, headers=dict(headers))
        deliveries.append({"body": json.loads(body), "status": response.status_code})
        return response.status_code

    monkeypatch.setattr(webhooks, "transport", post)
    return deliveries


def deliver(app: Flask) -> int:
    return run_pending(app)


def signed_post(app: Flask, client: Any, body: dict[str, Any], *, at: int | None = None) -> Any:
    raw = json.dumps(body).encode()
    header = sign(webhook_secret(app.config), at if at is not None else int(time.time()), raw)
    return client.post(
        "/api/v1/payments/webhook/sandbox",
        data=raw,
        headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
    )


def start_payment(api: Any, order_id: str) -> Any:
    return api.post(
        f"/api/v1/orders/{order_id}/payments", {}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


def pay_with(api: Any, pay_url: str, card: str) -> Any:
    """Fill the hosted page's card form, as the buyer's browser does."""
    return api.client.post(pay_url, data={"card_number": card, "csrf_token": api.token()})


@pytest.fixture
def placed(buyer_setup):  # noqa: F811
    """A pending order of 2 units and its pay page; returns (api, order, pay_url, merchant...)."""

    def make(**product_fields: Any) -> dict[str, Any]:
        api, product, address_id, buyer, merchant = buyer_setup(**product_fields)
        [order] = place(api, buy_now(product.id, address_id, 2)).get_json()["orders"]
        payment = start_payment(api, order["id"])
        assert payment.status_code == 201, payment.get_json()
        return {
            "api": api,
            "order": order,
            "pay_url": payment.get_json()["pay_url"],
            "intent": payment.get_json()["intent_id"],
            "product": product,
            "buyer": buyer,
            "merchant": merchant,
        }

    return make

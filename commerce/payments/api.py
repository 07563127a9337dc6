"""Payments JSON API: pay an order, refund it, and the provider's webhook."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from commerce.accounts.auth import require_merchant, require_user
from commerce.apispec import endpoint
from commerce.attribution.crediting import policy_from_config
from commerce.attribution.fraud import settings_from_config
from commerce.errors import ValidationFailed
from commerce.extensions import csrf, db
from commerce.orders import lifecycle
from commerce.orders.idempotency import idempotent
from commerce.orders.present import order_out, order_url
from commerce.orders.schemas import OrderOut, RefundIn
from commerce.payments import services
from commerce.payments.provider import InvalidSignature
from commerce.payments.webhooks import provider, webhook_url
from commerce.security_rules import safe_path
from commerce.timeutil import utcnow
from commerce.validation import Schema

log = logging.getLogger(__name__)
bp = Blueprint("payments_api", __name__, url_prefix="/api/v1")


class PaymentIn(Schema):
    return_to: str | None = None  # a path on this site to come back to after paying


class PaymentOut(Schema):
    order_id: str
    provider: str
    intent_id: str
    state: str
    amount_minor: int
    currency: str
    pay_url: str


class WebhookOut(Schema):
    received: bool
    duplicate: bool = False
    result: str = ""


def _policy_hooks(now: Any) -> tuple[Any, Any]:
    policy = policy_from_config(current_app.config)
    window = current_app.config["ATTRIBUTION_WINDOW_DAYS"]
    fraud_settings = settings_from_config(current_app.config)
    return services.commission_hooks(db.session, policy, window, now, fraud_settings)


@endpoint(
    bp,
    "/orders/<order_id>/payments",
    methods=("POST",),
    summary="Start paying your order; returns the provider's pay page; needs Idempotency-Key",
    body=PaymentIn,
    response=PaymentOut,
    status=201,
    errors=(404, 409, 422),
)
def start_payment(order_id: str, body: PaymentIn) -> Any:
    buyer = require_user()
    order = lifecycle.access_order_for_buyer(db.session, order_id, buyer)
    return_url = safe_path(body.return_to, order_url(order))[:300]  # the column's size
    hook = webhook_url()

    def run() -> tuple[int, dict[str, Any]]:
        payment = services.do_start_payment(
            db.session, provider(), order, utcnow(), return_url=return_url, webhook_url=hook
        )
        out = PaymentOut(
            order_id=order.public_id,
            provider=payment.provider,
            intent_id=payment.provider_ref,
            state=payment.state,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            pay_url=payment.pay_url,
        )
        return 201, out.model_dump(mode="json")

    return idempotent(buyer.id, f"payments.start:{order.id}", body.model_dump(), run)


@endpoint(
    bp,
    "/orders/<order_id>/refund",
    methods=("POST",),
    summary="Refund an order fully or in part (seller); needs Idempotency-Key",
    body=RefundIn,
    response=OrderOut,
    errors=(403, 404, 409, 422),
)
def refund_order(order_id: str, body: RefundIn) -> Any:
    merchant = require_merchant()
    order = lifecycle.access_order_for_merchant(db.session, order_id, merchant)
    key = request.headers.get("Idempotency-Key", "").strip()

    def run() -> tuple[int, dict[str, Any]]:
        now = utcnow()
        _credit, reverse = _policy_hooks(now)
        services.do_refund(
            db.session,
            provider(),
            order,
            merchant,
            now,
            amount_minor=body.amount_minor,
            reason=body.reason,
            restock=body.restock,
            idempotency_key=key,
            reverse=reverse,
        )
        return 200, order_out(order).model_dump(mode="json")

    return idempotent(merchant.id, f"orders.refund:{order.id}", body.model_dump(), run)


@endpoint(
    bp,
    "/payments/webhook/sandbox",
    methods=("POST",),
    summary="The sandbox provider's signed events (Sandbox-Signature: t=..,v1=..)",
    response=WebhookOut,
    auth=False,
    raw_body="application/json",
)
def sandbox_webhook() -> Any:
    raw = request.get_data(cache=False)
    try:
        event = provider().verify_webhook(request.headers, raw, time.time())
    except InvalidSignature as error:
        log.warning("sandbox webhook refused: %s", error)
        raise ValidationFailed(_("Invalid webhook signature."), code="bad_signature") from error
    try:
        services.record_event(db.session, provider().name, event)
    except IntegrityError:
        db.session.rollback()  # seen before: the first delivery already applied it
        return jsonify(WebhookOut(received=True, duplicate=True).model_dump())
    now = utcnow()
    credit, _reverse = _policy_hooks(now)
    result = services.do_apply_event(db.session, provider(), event, now, credit=credit)
    db.session.commit()
    return jsonify(WebhookOut(received=True, result=result).model_dump())


csrf.exempt(sandbox_webhook)  # authenticated by its signature, not by a browser session

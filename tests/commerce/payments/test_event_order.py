"""Payment events in any order and any number: one outcome per (event, payment, order) state."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.orders.models import Order, OrderEvent
from commerce.payments.models import Payment, RefundRecord, SandboxObject
from commerce.payments.rules import Outcome, payment_outcome
from tests.commerce.orders.test_concurrency import race
from tests.commerce.payments.conftest import deliver, pay_with, signed_post
from tests.commerce.payments.test_fulfilment import paid_order, refund
from tests.commerce.payments.test_payments import event_body

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"


@pytest.mark.parametrize(
    ("event", "payment", "order", "late", "outcome"),
    [
        (SUCCEEDED, "requires_payment", "pending_payment", False, Outcome.PAY),
        (SUCCEEDED, "requires_action", "pending_payment", False, Outcome.PAY),
        (SUCCEEDED, "requires_payment", "pending_payment", True, Outcome.EXPIRE_AND_REFUND),
        (SUCCEEDED, "requires_payment", "cancelled", False, Outcome.REFUND_UNPAYABLE),
        (SUCCEEDED, "requires_payment", "paid", False, Outcome.REFUND_DUPLICATE),
        (SUCCEEDED, "requires_payment", "shipped", False, Outcome.REFUND_DUPLICATE),
        (SUCCEEDED, "requires_payment", "refunded", False, Outcome.REFUND_DUPLICATE),
        (SUCCEEDED, "succeeded", "paid", False, Outcome.ALREADY_APPLIED),
        (SUCCEEDED, "succeeded", "delivered", False, Outcome.ALREADY_APPLIED),
        (SUCCEEDED, "succeeded", "cancelled", True, Outcome.ALREADY_APPLIED),
        (SUCCEEDED, "succeeded", "refunded", False, Outcome.ALREADY_APPLIED),
        (FAILED, "requires_payment", "pending_payment", False, Outcome.RECORD_FAILURE),
        (FAILED, "requires_action", "pending_payment", False, Outcome.RECORD_FAILURE),
        (FAILED, "succeeded", "paid", False, Outcome.IGNORE_LATE_FAILURE),
        (FAILED, "succeeded", "cancelled", False, Outcome.IGNORE_LATE_FAILURE),
        ("payment_intent.created", "requires_payment", "pending_payment", False, Outcome.IGNORE),
        ("charge.dispute.created", "succeeded", "paid", False, Outcome.IGNORE),
    ],
)
def test_the_outcome_table(event, payment, order, late, outcome):
    assert (
        payment_outcome(event, payment_state=payment, order_state=order, deadline_passed=late)
        == outcome
    )


def books(app, order_id):
    """(order state, refunded, our refund records, the provider's refunds, history)."""
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == order_id))
        records = db.session.scalars(
            select(RefundRecord.amount_minor).where(RefundRecord.order_id == order.id)
        ).all()
        at_provider = db.session.scalars(
            select(SandboxObject.amount_minor).where(SandboxObject.kind == "refund")
        ).all()
        history = db.session.scalars(
            select(OrderEvent.to_state).where(OrderEvent.order_id == order.id)
        ).all()
        return order.state, order.refunded_minor, records, at_provider, history


def test_the_same_payment_reported_again_changes_nothing(app, placed, client, webhook_inbox):
    p = paid_order(app, placed)
    order_id, intent = p["order"]["id"], p["intent"]
    before = books(app, order_id)
    assert before == ("paid", 0, [], [], ["pending_payment", "paid"])
    for n in range(3):  # new event ids each time, validly signed: a provider's redeliveries
        again = signed_post(app, client, event_body(intent, event_id=f"evt_again_{n}"))
        assert again.status_code == 200, again.get_json()
        assert again.get_json()["result"] == "already applied"
    assert books(app, order_id) == before
    assert deliver(app) == 0  # nothing was sent to the provider, nothing comes back


def test_a_failure_reported_after_the_success_is_ignored(app, placed, client, webhook_inbox):
    p = paid_order(app, placed)
    late = signed_post(app, client, event_body(p["intent"], event_type=FAILED))
    assert late.status_code == 200 and late.get_json()["result"] == "failure after success ignored"
    with app.app_context():
        assert db.session.scalar(select(Payment.state)) == "succeeded"
    assert books(app, p["order"]["id"])[0] == "paid"


def test_a_second_payment_for_a_paid_order_is_refunded_and_recorded(app, placed, webhook_inbox):
    p = placed()
    with app.app_context():  # a second intent for the same order (another tab, another device)
        order = db.session.scalar(select(Order).where(Order.public_id == p["order"]["id"]))
        intent = app.extensions["payments"].create_intent(
            amount_minor=order.total_minor,
            currency=order.currency,
            reference=order.public_id,
            return_url="/",
            webhook_url="http://localhost/api/v1/payments/webhook/sandbox",
            idempotency_key=f"second-{uuid.uuid4().hex}",
        )
        db.session.add(
            Payment(
                order_id=order.id,
                provider="sandbox",
                provider_ref=intent.id,
                amount_minor=intent.amount_minor,
                currency=intent.currency,
                state=intent.state,
                pay_url=intent.pay_url,
            )
        )
        db.session.commit()
        second_url, total = intent.pay_url, order.total_minor
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    pay_with(p["api"], second_url, "4242424242424242")
    deliver(app)
    results = [(d["body"]["type"], d["status"]) for d in webhook_inbox]
    assert results == [
        (SUCCEEDED, 200),
        (SUCCEEDED, 200),
        ("refund.succeeded", 200),
    ]
    state, refunded, records, at_provider, history = books(app, p["order"]["id"])
    # The order keeps its payment; the second payment went back whole, and the books say so.
    assert (state, refunded, history) == ("paid", 0, ["pending_payment", "paid"])
    assert records == [total] and at_provider == [total]
    with app.app_context():
        record = db.session.scalar(select(RefundRecord))
        refunded_payment = db.session.get(Payment, record.payment_id)
        assert refunded_payment.provider_ref == intent.id and record.state == "succeeded"
        assert record.reason == "order already paid by another payment"


def test_racing_full_refunds_refund_once(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed, price_minor=1000)
    total = p["order"]["total_minor"]
    sellers = [make_api(p["merchant"]) for _ in range(8)]
    responses = race([(lambda s=s: refund(s, p["order"]["id"], total)) for s in sellers])
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and codes.count(200) == 1, codes
    assert set(codes[1:]) <= {400, 409}, codes
    assert all(r.get_json()["error"]["message"] for r in responses if r.status_code != 200)
    state, refunded, records, at_provider, _history = books(app, p["order"]["id"])
    assert (state, refunded, records, at_provider) == ("refunded", total, [total], [total])


def test_racing_partial_refunds_never_exceed_the_total(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed, price_minor=1000)  # 2 units: 2000
    sellers = [make_api(p["merchant"]) for _ in range(8)]
    responses = race([(lambda s=s: refund(s, p["order"]["id"], 600)) for s in sellers])
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 3 and 500 not in codes, codes
    state, refunded, records, at_provider, _history = books(app, p["order"]["id"])
    assert (state, refunded) == ("partially_refunded", 1800)
    assert records == [600] * 3 and at_provider == [600] * 3

"""Payments: start paying an order, apply the provider's events, refund (fully or in part)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import crediting, payout_rules, payouts
from commerce.attribution.fraud import FraudSettings
from commerce.attribution.rules import CommissionPolicy
from commerce.coupons import checkout as coupons
from commerce.errors import Conflict, ValidationFailed
from commerce.locking import lock_row
from commerce.money import format_money
from commerce.order_signals import order_paid as order_paid
from commerce.order_signals import order_refunded as order_refunded
from commerce.orders import lifecycle, stock
from commerce.orders.models import Order
from commerce.orders.present import publish_order
from commerce.orders.rules import (
    PAID,
    PAID_STATES,
    PENDING_PAYMENT,
    REFUNDED,
    line_refund_shares,
    refund_state,
)
from commerce.orders.services import do_release_unpaid
from commerce.payments.models import (
    REQUIRES_ACTION,
    REQUIRES_PAYMENT,
    SUCCEEDED,
    Payment,
    RefundRecord,
    WebhookEvent,
)
from commerce.payments.provider import PaymentProvider, ProviderEvent
from commerce.payments.rules import Outcome, payment_outcome

# The provider's payout events (Stripe's names) and the payout state each one reports.
PAYOUT_EVENTS = {"payout.paid": payout_rules.PAID, "payout.failed": payout_rules.FAILED}

# order_paid: sent in the transaction that marked an order paid, after its commissions were
# credited (group buying seats the payer; listeners get the provider too, to refund if they
# must). order_refunded: in the transaction of every refund, after its amounts and reversals.


def open_payment(session: Session, order: Order) -> Payment | None:
    return session.scalar(
        select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.state.in_((REQUIRES_PAYMENT, REQUIRES_ACTION)),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )


def succeeded_payment(session: Session, order: Order) -> Payment | None:
    return session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.state == SUCCEEDED)
        .order_by(Payment.id)
        .limit(1)
    )


def do_start_payment(
    session: Session,
    provider: PaymentProvider,
    order: Order,
    now: datetime,
    *,
    return_url: str,
    webhook_url: str,
) -> Payment:
    """One payment intent per unpaid order: asking again returns the same one."""
    if order.state != PENDING_PAYMENT:
        raise Conflict(_("This order is not waiting for a payment."), code="not_payable")
    if order.expires_at is not None and order.expires_at <= now:
        raise Conflict(_("The time to pay this order has run out."), code="expired")
    existing = open_payment(session, order)
    if existing is not None:
        return existing
    intent = provider.create_intent(
        amount_minor=order.total_minor,
        currency=order.currency,
        reference=order.public_id,
        return_url=return_url,
        webhook_url=webhook_url,
        idempotency_key=f"order-{order.public_id}",
    )
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        provider_ref=intent.id,
        amount_minor=intent.amount_minor,
        currency=intent.currency,
        state=intent.state,
        pay_url=intent.pay_url,
    )
    session.add(payment)
    session.flush()
    return payment


def record_event(session: Session, provider_name: str, event: ProviderEvent) -> WebhookEvent:
    """Store the event id; the unique (provider, event_id) makes a replay fail to insert."""
    row = WebhookEvent(
        provider=provider_name,
        event_id=event.id,
        type=event.type,
        payload={"created": event.created, "object": event.object},
    )
    session.add(row)
    session.flush()
    return row


def do_apply_event(
    session: Session,
    provider: PaymentProvider,
    event: ProviderEvent,
    now: datetime,
    *,
    credit: Any = None,
) -> str:
    """Apply one verified, first-seen event; returns what it did (for the log and tests).

    `credit(order)` runs in this transaction when an order becomes paid (commissions).
    """
    obj = event.object
    if event.type.startswith("payout."):
        return _apply_payout_event(session, event)
    if event.type.startswith("refund."):
        refund = session.scalar(select(RefundRecord).where(RefundRecord.provider_ref == obj["id"]))
        if refund is not None:
            refund.state = event.type.split(".", 1)[1]
        return "refund recorded"
    found = session.scalar(
        select(Payment.id).where(
            Payment.provider == provider.name, Payment.provider_ref == str(obj.get("id"))
        )
    )
    if found is None:
        return "unknown payment"
    # Two events about one payment (a redelivery with a new id beside the first) are applied
    # one after the other: each sees what the other did.
    payment = lock_row(session, Payment, found)
    assert payment is not None
    order = lock_row(session, Order, payment.order_id)
    assert order is not None
    deadline_passed = order.expires_at is not None and order.expires_at < _utc_from_unix(
        event.created
    )
    outcome = payment_outcome(
        event.type,
        payment_state=payment.state,
        order_state=order.state,
        deadline_passed=deadline_passed,
    )
    if outcome == Outcome.RECORD_FAILURE:
        payment.state = REQUIRES_PAYMENT
        payment.last_error = str(obj.get("last_error") or "failed")[:2000]
    elif outcome in (Outcome.EXPIRE_AND_REFUND, Outcome.REFUND_UNPAYABLE, Outcome.REFUND_DUPLICATE):
        _succeeded(payment, event)
        if outcome == Outcome.EXPIRE_AND_REFUND:
            do_release_unpaid(session, order, now, actor_id=None, note="paid after the deadline")
            publish_order(session, order)
        reason = {
            Outcome.EXPIRE_AND_REFUND: "paid after the deadline",
            Outcome.REFUND_UNPAYABLE: "order no longer payable",
            Outcome.REFUND_DUPLICATE: "order already paid by another payment",
        }[outcome]
        _refund_payment(session, provider, order, payment, reason)
    elif outcome == Outcome.PAY:
        _succeeded(payment, event)
        lifecycle.do_transition(
            session,
            order,
            PAID,
            now,
            actor_id=None,
            note=payment.provider_ref,
            values={"paid_at": now},
        )
        if credit is not None:
            credit(order)
        order_paid.send(order, session=session, provider=provider, now=now)
    return str(outcome)


def _succeeded(payment: Payment, event: ProviderEvent) -> None:
    """The provider took the money: the payment records it, and the card it came from (money
    refunded at once still came from that card)."""
    payment.state = SUCCEEDED
    if event.instrument_fingerprint:
        payment.instrument_fingerprint = event.instrument_fingerprint[:64]


def _apply_payout_event(session: Session, event: ProviderEvent) -> str:
    """A payout settled at the provider: paid, or failed (its money back to available)."""
    wanted = PAYOUT_EVENTS.get(event.type)
    if wanted is None:
        return "ignored"
    obj = event.object
    payout = payouts.payout_for_event(
        session, provider_ref=str(obj.get("id") or ""), reference=str(obj.get("reference") or "")
    )
    if payout is None:
        return "unknown payout"
    changed = payouts.do_settle_payout(
        session,
        payout,
        wanted,
        at=_utc_from_unix(event.created),
        failure_code=str(obj.get("last_error") or "") or None,
    )
    return f"payout {payout.state}" if changed else "payout unchanged"


def _utc_from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _refund_payment(
    session: Session, provider: PaymentProvider, order: Order, payment: Payment, reason: str
) -> RefundRecord:
    """Give back the whole of a payment the order cannot keep, once per payment.

    The order's own refunded amount is not touched: this money never paid for the order.
    """
    key = f"auto-{payment.provider_ref}"
    earlier = session.scalar(
        select(RefundRecord).where(
            RefundRecord.order_id == order.id, RefundRecord.idempotency_key == key
        )
    )
    if earlier is not None:
        return earlier
    result = provider.refund(payment.provider_ref, payment.amount_minor, idempotency_key=key)
    record = RefundRecord(
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        provider_ref=result.id,
        state=result.state,
        reason=reason,
        idempotency_key=key,
    )
    session.add(record)
    session.flush()
    return record


def do_refund(
    session: Session,
    provider: PaymentProvider,
    order: Order,
    actor: User,
    now: datetime,
    *,
    amount_minor: int,
    reason: str,
    restock: bool,
    idempotency_key: str,
    reverse: Any = None,
) -> RefundRecord:
    """Give money back through the provider, spread over the lines; restock only if asked.

    `reverse(order)` runs after the amounts are applied (commission reversal).
    """
    # Concurrent refunds of one order run one after the other, each on the amounts the one
    # before it left (a stale refunded amount would refund twice or overwrite the first).
    locked = lock_row(session, Order, order.id)
    assert locked is order
    for line in order.lines:
        session.refresh(line)
    if order.state not in PAID_STATES:
        raise lifecycle.illegal(lifecycle.IllegalTransition(order.state, "refunded"))
    refundable = order.total_minor - order.refunded_minor
    if amount_minor > refundable:
        raise ValidationFailed(
            _("At most %(amount)s can still be refunded.", amount=_money(refundable, order)),
            fields={"amount_minor": _("Too much.")},
        )
    payment = succeeded_payment(session, order)
    if payment is None:
        raise Conflict(_("This order has no payment to refund."), code="no_payment")
    new_total = order.refunded_minor + amount_minor
    wanted = refund_state(order.total_minor, new_total)
    was_refunded = {line.id: line.refunded_minor >= line.amount_minor for line in order.lines}
    shares = line_refund_shares(
        [line.amount_minor - line.refunded_minor for line in order.lines], amount_minor
    )
    lifecycle.do_transition(
        session,
        order,
        wanted,
        now,
        actor_id=actor.id,
        note=reason,
        values={"refunded_minor": new_total, **lifecycle.refund_request_settled(order, now)},
        publish=False,
    )
    result = provider.refund(
        payment.provider_ref,
        amount_minor,
        idempotency_key=f"refund-{order.public_id}-{idempotency_key}",
        reason=reason,
    )
    if result.state == "failed":
        raise Conflict(_("The payment provider refused the refund."), code="refund_failed")
    for line, share in zip(order.lines, shares, strict=True):
        line.refunded_minor += share
        if restock and not was_refunded[line.id] and line.refunded_minor >= line.amount_minor:
            # Goods came back: they may be sold again. The buyer's allowance stays used.
            stock.give_back(
                session,
                buyer_id=order.buyer_id,
                product_id=line.product_id,
                quantity=line.quantity,
                flash_id=None,
                release_allowance=False,
            )
    if wanted == REFUNDED:  # a fully refunded order gives its coupons back
        coupons.release_for_order(session, order.id, now)
    record = RefundRecord(
        order_id=order.id,
        payment_id=payment.id,
        amount_minor=amount_minor,
        provider_ref=result.id,
        state=result.state,
        reason=reason,
        idempotency_key=idempotency_key,
        actor_id=actor.id,
    )
    session.add(record)
    session.flush()
    if reverse is not None:
        reverse(order)
    order_refunded.send(order, session=session, now=now)
    publish_order(session, order)
    return record


def _money(amount: int, order: Order) -> str:
    return format_money(amount, order.currency)


def commission_hooks(
    session: Session,
    policy: CommissionPolicy,
    window_days: int,
    now: datetime,
    fraud_settings: FraudSettings,
) -> tuple[Callable[[Order], object], Callable[[Order], None]]:
    """The attribution area's crediting (on payment) and reversal (after a refund)."""

    def credit(order: Order) -> object:
        return crediting.do_credit_order(session, order, policy, now, window_days, fraud_settings)

    def reverse(order: Order) -> None:
        crediting.do_reverse_for_refund(session, order, now)

    return credit, reverse

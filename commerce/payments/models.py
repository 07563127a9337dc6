"""The app's record of payments and refunds, the webhooks it accepted, and the sandbox's books.

The sandbox provider keeps its own tables (`sandbox_*`) as a real provider keeps its own
database: the app learns what happened there only through signed webhooks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import MONEY, db
from commerce.timeutil import utcnow

# Payment intent states, as providers name them.
REQUIRES_PAYMENT = "requires_payment"
REQUIRES_ACTION = "requires_action"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"


class Payment(db.Model):
    """The app's side of one payment intent for one order."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), default=REQUIRES_PAYMENT)
    pay_url: Mapped[str] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The card that paid, as the provider's fingerprint (provider.Intent): set when the payment
    # succeeds, compared by the invite checks, never shown to anyone nor in the API.
    instrument_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RefundRecord(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("order_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    amount_minor: Mapped[int] = mapped_column(MONEY)
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending|succeeded|failed
    reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(db.Model):
    """A provider event the app accepted; its id makes a replayed delivery a no-op."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxObject(db.Model):
    """The sandbox provider's books: intents (pi_), refunds (re_), payouts (po_), events (evt_)."""

    __tablename__ = "sandbox_objects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # intent | refund | payout | event
    state: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(MONEY, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    parent_id: Mapped[str | None] = mapped_column(String(40), index=True)  # a refund's intent
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

"""The payment provider interface; the app talks to every provider through it alone.

Providers are chosen by PAYMENT_PROVIDER and created once per app (see `make_provider`).
What happened at the provider reaches the app only through signed webhooks, which
`verify_webhook` checks and turns into a `ProviderEvent`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Intent:
    """A payment intent: the amount the buyer is asked to pay, and where they pay it.

    `instrument_fingerprint` names the card that paid (or tried to), like Stripe's
    `payment_method.card.fingerprint`: the same card number gives the same value for every
    account, different cards differ, and the number cannot be read back from it. None until a
    card was given. The app compares it (one invite reward per person) and never shows it.
    """

    id: str
    state: str
    amount_minor: int
    currency: str
    pay_url: str
    metadata: dict[str, Any] = field(default_factory=dict)
    instrument_fingerprint: str | None = None


@dataclass(frozen=True)
class RefundResult:
    id: str
    state: str  # pending | succeeded | failed


@dataclass(frozen=True)
class PayoutResult:
    id: str
    state: str  # pending | paid | failed; the webhook, not this, is what the app acts on


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event.

    `instrument_fingerprint`: the paying card's fingerprint on a payment_intent event (see
    Intent), mapped by the adapter from its own payload; a Stripe adapter reads the charge's
    `payment_method_details.card.fingerprint`. None when the provider gives none.
    """

    id: str
    type: str
    created: int  # unix seconds, when it happened at the provider
    object: dict[str, Any]
    instrument_fingerprint: str | None = None


class InvalidSignature(Exception):
    """A webhook that was not signed by the provider, or signed too long ago."""


class PaymentProvider(Protocol):
    name: str

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        reference: str,
        return_url: str,
        webhook_url: str,
        idempotency_key: str,
    ) -> Intent: ...

    def confirm(self, intent_id: str, *, card_number: str) -> Intent: ...

    def refund(
        self, intent_id: str, amount_minor: int, *, idempotency_key: str, reason: str = ""
    ) -> RefundResult: ...

    def payout(
        self,
        *,
        account: str,
        amount_minor: int,
        currency: str,
        reference: str,
        webhook_url: str,
        idempotency_key: str,
    ) -> PayoutResult:
        """Send money to a payee; the outcome arrives as payout.paid or payout.failed."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, now: float
    ) -> ProviderEvent: ...


SIGNATURE_HEADER = "Sandbox-Signature"


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """Stripe's scheme: HMAC-SHA256 over "<t>.<raw body>", sent as `t=<unix>,v1=<hex>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_signature(
    secret: str, header: str | None, raw_body: bytes, now: float, tolerance: int
) -> None:
    """Raise InvalidSignature unless some v1 matches (constant time) and t is recent enough."""
    if not header:
        raise InvalidSignature("no signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("malformed signature header")
    expected = sign(secret, timestamp, raw_body).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")


def webhook_secret(config: Mapping[str, Any]) -> str:
    """PAYMENT_WEBHOOK_SECRET, or one derived from SECRET_KEY so each install has its own."""
    configured = config.get("PAYMENT_WEBHOOK_SECRET") or ""
    if configured:
        return str(configured)
    secret_key = str(config["SECRET_KEY"]).encode()
    return "whsec_" + hmac.new(secret_key, b"sandbox-webhooks", hashlib.sha256).hexdigest()

"""A built-in payment provider that behaves like a real one, for development and tests.

Its books are SandboxObject rows (intents pi_, refunds re_, payouts po_, events evt_). The
buyer pays on its hosted page with test cards, payees are paid unless theirs is a failing test
account; each outcome becomes an event that a job POSTs, signed, to the app's webhook URL,
retried with backoff until the app accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.jobs.runner import enqueue
from commerce.payments.models import (
    FAILED,
    REQUIRES_ACTION,
    REQUIRES_PAYMENT,
    SUCCEEDED,
    SandboxObject,
)
from commerce.payments.provider import (
    SIGNATURE_HEADER,
    Intent,
    InvalidSignature,
    PayoutResult,
    ProviderEvent,
    RefundResult,
    check_signature,
)

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NEEDS_ACTION = "4000000000003220"
# Stripe's other 16-digit test cards that succeed (https://docs.stripe.com/testing), by brand
# and funding: several people can each pay with a card of their own, which the one invite reward
# per person check tells apart. (15-, 14- and 19-digit ones are left out: the form takes 16.)
SUCCEEDING_CARDS: dict[str, tuple[str, str]] = {
    CARD_SUCCEEDS: ("Visa", "credit"),
    "4000056655665556": ("Visa", "debit"),
    "5555555555554444": ("Mastercard", "credit"),
    "2223003122003222": ("Mastercard", "credit"),
    "5200828282828210": ("Mastercard", "debit"),
    "5105105105105100": ("Mastercard", "prepaid"),
    "6011111111111117": ("Discover", "credit"),
    "6011000990139424": ("Discover", "credit"),
    "6011981111111113": ("Discover", "debit"),
    "3056930009020004": ("Diners Club", "credit"),
    "6555900000604105": ("BCcard and DinaCard", "credit"),
    "3566002020360505": ("JCB", "credit"),
    "6200000000000005": ("UnionPay", "credit"),
    "6200000000000047": ("UnionPay", "debit"),
}
TEST_CARDS = (*SUCCEEDING_CARDS, CARD_DECLINED, CARD_NEEDS_ACTION)
FINGERPRINT_CHARS = 32  # 128 bits of the keyed hash: collisions are out of reach
# Test payees, like the test cards: a payout to an account (the payee's e-mail) whose local part
# ends in one of these tags fails with that code, e.g. ann+payout_closed@example.com; any other
# account is paid. Each outcome is a payout.paid or payout.failed webhook.
FAILING_ACCOUNTS = {
    "+payout_closed": "account_closed",
    "+payout_invalid": "invalid_account",
}
DELIVER_JOB = "payments.deliver_webhook"


class CardError(ValueError):
    """The card form was refused; the message says why (the view translates it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise_card(text: str) -> str:
    digits = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if not digits.isdigit() or len(digits) != 16:
        raise CardError("card_format")
    return digits


def card_fingerprint(key: bytes, card_number: str) -> str:
    """Stripe's card.fingerprint: one value per card number, whoever pays with it.

    A keyed hash (HMAC-SHA256), not a plain one: 16-digit test numbers, or real ones with a
    known bank prefix and a Luhn digit, are few enough to hash them all, so without the key a
    leaked fingerprint would give the number back.
    """
    digest = hmac.new(key, normalise_card(card_number).encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_CHARS]


def fingerprint_key(secret_key: str) -> bytes:
    """The sandbox's fingerprint key, derived from SECRET_KEY (so each install has its own;
    fingerprints change if SECRET_KEY does, as they would across two provider accounts)."""
    return hmac.new(secret_key.encode(), b"sandbox-card-fingerprints", hashlib.sha256).digest()


def payout_failure(account: str) -> str | None:
    """The failure code the sandbox gives a payout to this test account, if any."""
    local = account.rsplit("@", 1)[0].lower()
    return next((code for tag, code in FAILING_ACCOUNTS.items() if local.endswith(tag)), None)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        session: Callable[[], Session],
        *,
        secret: str,
        tolerance_seconds: int,
        pay_url: Callable[[str], str],
        fingerprint_key: bytes,
        max_attempts: int = 8,
    ) -> None:
        self._session = session
        self._secret = secret
        self._fingerprint_key = fingerprint_key
        self._tolerance = tolerance_seconds
        self._pay_url = pay_url
        self._max_attempts = max_attempts

    # The provider's side ---------------------------------------------------------------------

    def get_intent(self, intent_id: str) -> SandboxObject | None:
        obj = self._session().get(SandboxObject, intent_id)
        return obj if obj is not None and obj.kind == "intent" else None

    def _intent(self, obj: SandboxObject) -> Intent:
        return Intent(
            id=obj.id,
            state=obj.state,
            amount_minor=obj.amount_minor,
            currency=obj.currency,
            pay_url=self._pay_url(obj.id),
            metadata=dict(obj.data),
            instrument_fingerprint=obj.data.get("card_fingerprint"),
        )

    def _by_key(self, key: str) -> SandboxObject | None:
        return self._session().scalar(
            select(SandboxObject).where(SandboxObject.idempotency_key == key)
        )

    def create_intent(
        self,
        *,
        amount_minor: int,
        currency: str,
        reference: str,
        return_url: str,
        webhook_url: str,
        idempotency_key: str,
    ) -> Intent:
        existing = self._by_key(idempotency_key)
        if existing is not None:
            return self._intent(existing)
        obj = SandboxObject(
            id=_new_id("pi"),
            kind="intent",
            state=REQUIRES_PAYMENT,
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=idempotency_key,
            data={"reference": reference, "return_url": return_url, "webhook_url": webhook_url},
        )
        session = self._session()
        session.add(obj)
        session.flush()
        return self._intent(obj)

    def confirm(self, intent_id: str, *, card_number: str) -> Intent:
        """Pay with a test card: 4242 (and SUCCEEDING_CARDS) succeeds, 0002 declines, 3220 asks
        for a second step. The card is kept as its last four digits and its fingerprint only."""
        obj = self.get_intent(intent_id)
        if obj is None:
            raise CardError("no_intent")
        if obj.state not in (REQUIRES_PAYMENT,):
            raise CardError("not_payable")
        card = normalise_card(card_number)
        if card not in TEST_CARDS:
            raise CardError("not_test_card")
        data = dict(obj.data)
        data["card_last4"] = card[-4:]
        data["card_fingerprint"] = card_fingerprint(self._fingerprint_key, card)
        obj.data = data
        if card in SUCCEEDING_CARDS:
            self._settle(obj, SUCCEEDED)
        elif card == CARD_DECLINED:
            self._fail(obj, "card_declined")
        else:
            obj.state = REQUIRES_ACTION
            self._session().flush()
        return self._intent(obj)

    def authenticate(self, intent_id: str, *, approve: bool) -> Intent:
        """The second step of a 3220 card: the buyer completes it or fails it."""
        obj = self.get_intent(intent_id)
        if obj is None or obj.state != REQUIRES_ACTION:
            raise CardError("not_payable")
        if approve:
            self._settle(obj, SUCCEEDED)
        else:
            self._fail(obj, "authentication_failed")
        return self._intent(obj)

    def _settle(self, obj: SandboxObject, state: str) -> None:
        obj.state = state
        self._emit("payment_intent.succeeded", obj)

    def _fail(self, obj: SandboxObject, reason: str) -> None:
        # Like Stripe: the intent can be paid again with another card.
        obj.state = REQUIRES_PAYMENT
        data = dict(obj.data)
        data["last_error"] = reason
        obj.data = data
        self._emit("payment_intent.payment_failed", obj)

    def refund(
        self, intent_id: str, amount_minor: int, *, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        existing = self._by_key(idempotency_key)
        if existing is not None:
            return RefundResult(existing.id, existing.state)
        intent = self.get_intent(intent_id)
        session = self._session()
        refunded = sum(
            session.scalars(
                select(SandboxObject.amount_minor).where(
                    SandboxObject.parent_id == intent_id,
                    SandboxObject.kind == "refund",
                    SandboxObject.state == SUCCEEDED,
                )
            )
        )
        if (
            intent is None
            or intent.state != SUCCEEDED
            or refunded + amount_minor > (intent.amount_minor)
        ):
            state = FAILED
        else:
            state = SUCCEEDED
        obj = SandboxObject(
            id=_new_id("re"),
            kind="refund",
            state=state,
            amount_minor=amount_minor,
            currency=intent.currency if intent else "CNY",
            parent_id=intent_id,
            idempotency_key=idempotency_key,
            data={
                "reason": reason,
                "webhook_url": intent.data.get("webhook_url", "") if intent else "",
                "reference": intent.data.get("reference", "") if intent else "",
            },
        )
        session.add(obj)
        self._emit(f"refund.{state}", obj)
        return RefundResult(obj.id, state)

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
        """Pay at once and report it by webhook; a test account (FAILING_ACCOUNTS) fails."""
        existing = self._by_key(idempotency_key)
        if existing is not None:
            return PayoutResult(existing.id, existing.state)
        failure = payout_failure(account)
        data = {"account": account, "reference": reference, "webhook_url": webhook_url}
        if failure:
            data["last_error"] = failure
        obj = SandboxObject(
            id=_new_id("po"),
            kind="payout",
            state="failed" if failure else "paid",
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=idempotency_key,
            data=data,
        )
        self._session().add(obj)
        self._emit(f"payout.{obj.state}", obj)
        return PayoutResult(obj.id, obj.state)

    def _emit(self, event_type: str, obj: SandboxObject) -> None:
        """Write the event and queue its delivery (both commit with the change that caused it)."""
        session = self._session()
        session.flush()
        url = obj.data.get("webhook_url", "")
        payload_object = {
            "id": obj.id,
            "object": {"intent": "payment_intent"}.get(obj.kind, obj.kind),
            "amount": obj.amount_minor,
            "currency": obj.currency,
            "status": obj.state,
            "reference": obj.data.get("reference"),
            "payment_intent": obj.parent_id,
            "last_error": obj.data.get("last_error"),
        }
        if obj.data.get("card_fingerprint"):
            # Where Stripe puts it on the intent's charge (the last four digits beside it).
            payload_object["payment_method_details"] = {
                "card": {
                    "last4": obj.data.get("card_last4"),
                    "fingerprint": obj.data["card_fingerprint"],
                }
            }
        event_id = _new_id("evt")
        body = {
            "id": event_id,
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": payload_object},
        }
        session.add(
            SandboxObject(
                id=event_id,
                kind="event",
                state="pending",
                parent_id=obj.id,
                data={"body": json.dumps(body, sort_keys=True), "url": url},
            )
        )
        session.flush()
        if url:
            enqueue(session, DELIVER_JOB, {"event_id": event_id}, max_attempts=self._max_attempts)

    # The app's side --------------------------------------------------------------------------

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, now: float
    ) -> ProviderEvent:
        check_signature(self._secret, headers.get(SIGNATURE_HEADER), raw_body, now, self._tolerance)
        return parse_event(raw_body)


def parse_event(raw_body: bytes | str) -> ProviderEvent:
    """An event's body as the sandbox sends it (Stripe's shape), the card's fingerprint included."""
    try:
        body: dict[str, Any] = json.loads(raw_body)
        obj = dict(body["data"]["object"])
        card = (obj.get("payment_method_details") or {}).get("card") or {}
        fingerprint = str(card["fingerprint"]) if card.get("fingerprint") else None
        return ProviderEvent(
            id=str(body["id"]),
            type=str(body["type"]),
            created=int(body["created"]),
            object=obj,
            instrument_fingerprint=fingerprint,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidSignature("signed, but not an event") from exc

"""Order rules: the state machine, prices at a moment, refund bounds. Pure functions."""

from __future__ import annotations

from commerce.flashsales.rules import FlashWindow as FlashWindow
from commerce.flashsales.rules import flash_is_on as flash_is_on
from commerce.flashsales.rules import unit_price as unit_price

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"

STATES = (
    PENDING_PAYMENT,
    PAID,
    SHIPPED,
    DELIVERED,
    COMPLETED,
    CANCELLED,
    REFUNDED,
    PARTIALLY_REFUNDED,
)

# Fulfilment moves forward; money can go back (fully or in part) from any paid state. A partly
# refunded order keeps being fulfilled: its next fulfilment step is allowed from there.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({SHIPPED, REFUNDED, PARTIALLY_REFUNDED}),
    SHIPPED: frozenset({DELIVERED, REFUNDED, PARTIALLY_REFUNDED}),
    DELIVERED: frozenset({COMPLETED, REFUNDED, PARTIALLY_REFUNDED}),
    COMPLETED: frozenset({REFUNDED, PARTIALLY_REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({SHIPPED, DELIVERED, COMPLETED, REFUNDED, PARTIALLY_REFUNDED}),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}

# Where a partly refunded order stands in fulfilment decides its next step.
FULFILMENT_ORDER = (PAID, SHIPPED, DELIVERED, COMPLETED)
PAID_STATES = frozenset({PAID, SHIPPED, DELIVERED, COMPLETED, PARTIALLY_REFUNDED})


# A buyer's refund request: open until the seller refunds (approved) or declines with a reason;
# after a decline the buyer may ask again.
REQUEST_OPEN = "requested"
REQUEST_APPROVED = "approved"
REQUEST_DECLINED = "declined"

# The fulfilment step an order waits for, and the action that takes it.
NEXT_STEP = {PAID: "ship", SHIPPED: "deliver", DELIVERED: "confirm"}


def next_step(state: str, fulfilment: str) -> str | None:
    """'ship', 'deliver', 'confirm' or None. A partly refunded order waits for the step after the
    furthest it reached (a partial refund after shipping still waits for delivery, not shipping)."""
    if state == PARTIALLY_REFUNDED:
        return NEXT_STEP.get(fulfilment)
    return NEXT_STEP.get(state)


def may_request_refund(state: str, request_state: str) -> bool:
    """A paid order without an open request (none yet, or the last one declined or settled)."""
    return state in PAID_STATES and request_state != REQUEST_OPEN


class IllegalTransition(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str, *, fulfilment: str | None = None) -> str:
    """Return `wanted` if the move is legal; a partly refunded order only steps forward."""
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(current, wanted)
    if current == PARTIALLY_REFUNDED and wanted in FULFILMENT_ORDER:
        reached = FULFILMENT_ORDER.index(fulfilment or PAID)
        if FULFILMENT_ORDER.index(wanted) != reached + 1:
            raise IllegalTransition(current, wanted)
    return wanted


def refund_state(paid_minor: int, refunded_minor: int) -> str:
    """After a refund: the whole amount back is `refunded`, anything less is a partial refund."""
    if not 0 < refunded_minor <= paid_minor:
        raise ValueError("a refund is more than nothing and at most what was paid")
    return REFUNDED if refunded_minor == paid_minor else PARTIALLY_REFUNDED


def line_refund_shares(line_amounts: list[int], refund_minor: int) -> list[int]:
    """Spread an order-level refund over its lines pro rata; the remainder goes to the first lines.

    The shares add up to exactly `refund_minor` and no line gets more than it was paid.
    """
    total = sum(line_amounts)
    if not 0 <= refund_minor <= total:
        raise ValueError("a refund is at most what was paid")
    if total == 0:
        return [0 for _ in line_amounts]
    shares = [amount * refund_minor // total for amount in line_amounts]
    leftover = refund_minor - sum(shares)
    for index, amount in enumerate(line_amounts):
        if leftover == 0:
            break
        extra = min(leftover, amount - shares[index])
        shares[index] += extra
        leftover -= extra
    return shares


# What a history line says, as a code and a detail the pages translate. Notes are stored as
# written by the code that made the change; a payment's note is the provider's id, which is
# internal and never shown.
SYSTEM_NOTES = {
    "cancelled by the buyer": "cancelled_by_buyer",
    "payment deadline passed": "deadline_passed",
    "paid after the deadline": "paid_late",
    "order no longer payable": "not_payable",
    "order already paid by another payment": "paid_twice",
    # group buying (commerce/groupbuy) writes these
    "group closed: you lead a new group": "group_moved",
    "group filled": "group_filled",
    "group did not fill in time": "group_failed",
    "leader rides free": "leader_free",
}
REFUND_REQUESTED_PREFIX = "refund requested: "
REFUND_DECLINED_PREFIX = "refund declined: "


def history_entry(from_state: str | None, to_state: str, note: str) -> tuple[str, str]:
    """(kind, detail) for a history line: kind is "", "tracking", "refund_requested",
    "refund_declined", "reason" or a system note's code; detail is the user's text, if any."""
    if to_state == PAID and from_state == PENDING_PAYMENT:
        return "", ""
    if note.startswith(REFUND_REQUESTED_PREFIX):
        return "refund_requested", note.removeprefix(REFUND_REQUESTED_PREFIX)
    if note.startswith(REFUND_DECLINED_PREFIX):
        return "refund_declined", note.removeprefix(REFUND_DECLINED_PREFIX)
    if note in SYSTEM_NOTES:
        return SYSTEM_NOTES[note], ""
    if not note:
        return "", ""
    if to_state == SHIPPED and from_state != SHIPPED:
        return "tracking", note
    return "reason", note

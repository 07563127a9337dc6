"""Order rules: the state machine, prices at a moment, refund bounds. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class FlashWindow:
    price_minor: int
    starts_at: datetime
    ends_at: datetime
    quantity: int
    sold: int


def flash_is_on(flash: FlashWindow | None, now: datetime) -> bool:
    """The server's clock decides: on from its start (inclusive) to its end (exclusive)."""
    return (
        flash is not None and flash.starts_at <= now < flash.ends_at and flash.sold < flash.quantity
    )


def unit_price(list_price_minor: int, flash: FlashWindow | None, now: datetime) -> int:
    return flash.price_minor if flash is not None and flash_is_on(flash, now) else list_price_minor


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

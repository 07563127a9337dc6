"""Payout states and the moves between them. Pure functions.

A payout is `requested` when the ledger has moved the money from available to paid; only the
provider's signed webhook settles it. Like Stripe payouts, a payout that showed as paid can
still fail later (the receiving bank returns it), so paid -> failed is allowed; nothing ever
leaves `failed`: the money is back in the available balance and a new request is a new payout.
"""

from __future__ import annotations

REQUESTED = "requested"
PAID = "paid"
FAILED = "failed"
STATES = (REQUESTED, PAID, FAILED)

TRANSITIONS: dict[str, frozenset[str]] = {
    REQUESTED: frozenset({PAID, FAILED}),
    PAID: frozenset({FAILED}),
    FAILED: frozenset(),
}


class IllegalPayoutTransition(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a payout cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def next_state(current: str, wanted: str) -> str | None:
    """`wanted` if the payout must move, None if it is already there (a repeated report)."""
    if wanted not in STATES:
        raise IllegalPayoutTransition(current, wanted)
    if current == wanted:
        return None
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalPayoutTransition(current, wanted)
    return wanted


def returns_money(current: str, wanted: str) -> bool:
    """A failure gives the amount back to the available balance (once: failed is final)."""
    return wanted == FAILED and current != FAILED

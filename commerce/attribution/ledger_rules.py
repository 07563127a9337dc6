"""The commission ledger as postings: pure functions that say which entries an event appends.

The ledger is append-only. A balance is the sum of a payee's entries in one bucket. Earning a
commission appends to `pending`; every later move (release after the hold, payout, refund) is a
pair of entries that add up to zero, so nothing is ever edited and the total earned never changes
by a move. A refund after release takes the money back from `available`, which may go negative:
that is netted against future earnings, and payouts wait until it is positive again. A payout
moves available to paid when it is requested; if the provider then fails it, a second pair
moves the same amount back from paid to available.
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING = "pending"
AVAILABLE = "available"
PAID_OUT = "paid"
CANCELLED = "cancelled"
BUCKETS = (PENDING, AVAILABLE, PAID_OUT, CANCELLED)


@dataclass(frozen=True)
class Posting:
    bucket: str
    amount_minor: int


def accrue(amount_minor: int) -> list[Posting]:
    """A commission earned at payment waits in `pending` until the hold after delivery ends."""
    if amount_minor < 0:
        raise ValueError("a commission is never negative")
    return [Posting(PENDING, amount_minor)] if amount_minor else []


def move(amount_minor: int, source: str, target: str) -> list[Posting]:
    if amount_minor < 0:
        raise ValueError("moves carry a positive amount")
    if amount_minor == 0:
        return []
    return [Posting(source, -amount_minor), Posting(target, amount_minor)]


def release(pending_minor: int) -> list[Posting]:
    """The hold is over: what is still pending for the commission becomes available."""
    return move(max(pending_minor, 0), PENDING, AVAILABLE)


def reduce_commission(
    pending_minor: int, earned_minor: int, new_amount_minor: int
) -> list[Posting]:
    """A refund lowers one commission from `earned_minor` (all it has accrued, net of earlier
    reductions) to `new_amount_minor`: take it from pending first, then from available."""
    if not new_amount_minor >= 0:
        raise ValueError("a commission is never negative")
    cut = earned_minor - new_amount_minor
    if cut <= 0:
        return []
    from_pending = min(cut, max(pending_minor, 0))
    return move(from_pending, PENDING, CANCELLED) + move(cut - from_pending, AVAILABLE, CANCELLED)


# Why a payout is refused (PayoutRefused.reason).
NEGATIVE_BALANCE = "negative_balance"
BELOW_MINIMUM = "below_minimum"
ABOVE_AVAILABLE = "above_available"


class PayoutRefused(ValueError):
    """A payout request that the balance does not allow; `reason` is a machine code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def payout(available_minor: int, amount_minor: int, minimum_minor: int) -> list[Posting]:
    """Only from the available balance, at least the minimum, never while it is negative."""
    if available_minor < 0:
        raise PayoutRefused(NEGATIVE_BALANCE)
    if amount_minor < minimum_minor or amount_minor <= 0:
        raise PayoutRefused(BELOW_MINIMUM)
    if amount_minor > available_minor:
        raise PayoutRefused(ABOVE_AVAILABLE)
    return move(amount_minor, AVAILABLE, PAID_OUT)


def payout_blocker(available_minor: int, minimum_minor: int) -> str | None:
    """Why no payout can be requested now (payout's refusal of the whole balance), or None."""
    try:
        payout(available_minor, available_minor, minimum_minor)
    except PayoutRefused as refused:
        return refused.reason
    return None


def payout_returned(amount_minor: int) -> list[Posting]:
    """A payout the provider could not deliver: the money is the payee's to request again."""
    return move(amount_minor, PAID_OUT, AVAILABLE)


def balances(postings: list[Posting]) -> dict[str, int]:
    totals = dict.fromkeys(BUCKETS, 0)
    for posting in postings:
        totals[posting.bucket] += posting.amount_minor
    return totals

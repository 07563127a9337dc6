"""What a provider's payment event does, whatever order the events arrive in (a pure table).

Providers deliver at least once and in any order: a second `payment_intent.succeeded` for the
same intent (a new event id), a failure report after the success, a success after the order
expired or after another intent already paid it. Each (event, payment, order) combination has
one outcome, and applying an event twice never changes more than applying it once.
"""

from __future__ import annotations

from enum import StrEnum

from commerce.orders.rules import PENDING_PAYMENT


class Outcome(StrEnum):
    PAY = "paid"  # the order becomes paid by this payment; commissions are credited
    ALREADY_APPLIED = "already applied"  # the same payment reported again: nothing changes
    EXPIRE_AND_REFUND = "expired, refunded"  # paid after the deadline: cancel, money back
    REFUND_UNPAYABLE = "refunded: order not payable"  # cancelled or expired before: money back
    REFUND_DUPLICATE = "refunded: order already paid"  # another payment settled it: money back
    RECORD_FAILURE = "payment failed"  # the buyer may try again with another card
    IGNORE_LATE_FAILURE = "failure after success ignored"  # the success stands
    IGNORE = "ignored"  # an event type payments do not act on


SUCCEEDED = "succeeded"


def payment_outcome(
    event_type: str,
    *,
    payment_state: str,
    order_state: str,
    deadline_passed: bool,
) -> Outcome:
    """The outcome of one verified, first-seen event about one of our payments.

    `payment_state` is the payment's state before the event; `deadline_passed` says whether the
    order's payment deadline had passed when the provider created the event.
    """
    if event_type == "payment_intent.payment_failed":
        return Outcome.IGNORE_LATE_FAILURE if payment_state == SUCCEEDED else Outcome.RECORD_FAILURE
    if event_type != "payment_intent.succeeded":
        return Outcome.IGNORE
    if payment_state == SUCCEEDED:
        return Outcome.ALREADY_APPLIED
    if order_state == PENDING_PAYMENT:
        return Outcome.EXPIRE_AND_REFUND if deadline_passed else Outcome.PAY
    if order_state == "cancelled":
        return Outcome.REFUND_UNPAYABLE
    return Outcome.REFUND_DUPLICATE  # paid (or further on) through another payment

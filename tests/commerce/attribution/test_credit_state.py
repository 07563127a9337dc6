"""The commission state rule: tables of ledger histories and the state each one leaves."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.attribution.credit_state import (
    AVAILABLE,
    CANCELLED,
    CLAWED_BACK,
    NO_PAY,
    PAID,
    PENDING,
    Entry,
    credit_states,
    state_of,
)
from commerce.attribution.ledger_rules import BELOW_MINIMUM, NEGATIVE_BALANCE, payout_blocker

T0 = datetime(2026, 1, 1)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


# Event shorthands: each expands to the ledger rows ledger.py posts for it.
def accrue(c, amount, d):
    return [("accrue", "pending", amount, d, c, None)]


def release(c, amount, d):
    return [
        ("release", "pending", -amount, d, c, None),
        ("release", "available", amount, d, c, None),
    ]


def cut(c, from_pending, from_available, d, kind="refund"):
    rows = []
    if from_pending:
        rows += [(kind, "pending", -from_pending, d, c, None)]
        rows += [(kind, "cancelled", from_pending, d, c, None)]
    if from_available:
        rows += [(kind, "available", -from_available, d, c, None)]
        rows += [(kind, "cancelled", from_available, d, c, None)]
    return rows


def payout(p, amount, d):
    return [("payout", "available", -amount, d, None, p), ("payout", "paid", amount, d, None, p)]


def failed(p, amount, d):
    return [
        ("payout_failed", "paid", -amount, d, None, p),
        ("payout_failed", "available", amount, d, None, p),
    ]


def entries(*events):
    rows = [row for event in events for row in event]
    return [
        Entry(id=i, kind=k, bucket=b, amount_minor=a, at=at, commission_id=c, payout_id=p)
        for i, (k, b, a, at, c, p) in enumerate(rows, start=1)
    ]


# (history, commission, state, amount now, dates set)
CASES = [
    ([accrue(1, 1000, day(0))], 1, PENDING, 1000, {"accrued_at"}),
    (
        [accrue(1, 1000, day(0)), cut(1, 500, 0, day(1))],
        1,
        PENDING,
        500,
        {"accrued_at", "reversed_at"},
    ),
    (
        [accrue(1, 1000, day(0)), cut(1, 1000, 0, day(1))],
        1,
        CANCELLED,
        0,
        {"accrued_at", "reversed_at"},
    ),
    (
        [accrue(1, 1000, day(0)), cut(1, 1000, 0, day(1), "reject")],
        1,
        CANCELLED,
        0,
        {"accrued_at", "reversed_at"},
    ),
    (
        [accrue(1, 1000, day(0)), release(1, 1000, day(8))],
        1,
        AVAILABLE,
        1000,
        {"accrued_at", "released_at"},
    ),
    (
        [accrue(1, 1000, day(0)), release(1, 1000, day(8)), cut(1, 0, 1000, day(9))],
        1,
        CLAWED_BACK,
        0,
        {"accrued_at", "released_at", "reversed_at"},
    ),
    (
        [accrue(1, 1000, day(0)), release(1, 1000, day(8)), payout(1, 1000, day(9))],
        1,
        PAID,
        1000,
        {"accrued_at", "released_at", "paid_at"},
    ),
    (  # refunded in full after it was paid out: clawed back, netted against later earnings
        [
            accrue(1, 1000, day(0)),
            release(1, 1000, day(8)),
            payout(1, 1000, day(9)),
            cut(1, 0, 1000, day(10)),
        ],
        1,
        CLAWED_BACK,
        0,
        {"accrued_at", "released_at", "reversed_at"},
    ),
    (  # half refunded after payout: still paid, for what is left
        [
            accrue(1, 1000, day(0)),
            release(1, 1000, day(8)),
            payout(1, 1000, day(9)),
            cut(1, 0, 500, day(10)),
        ],
        1,
        PAID,
        500,
        {"accrued_at", "released_at", "reversed_at", "paid_at"},
    ),
    (  # the provider returned the payout: available again
        [
            accrue(1, 1000, day(0)),
            release(1, 1000, day(8)),
            payout(1, 1000, day(9)),
            failed(1, 1000, day(10)),
        ],
        1,
        AVAILABLE,
        1000,
        {"accrued_at", "released_at"},
    ),
    (  # a payout pays the earliest released first: #1 paid, #2 only partly, so available
        [
            accrue(1, 1000, day(0)),
            accrue(2, 800, day(0)),
            release(1, 1000, day(8)),
            release(2, 800, day(9)),
            payout(1, 1400, day(10)),
        ],
        1,
        PAID,
        1000,
        {"accrued_at", "released_at", "paid_at"},
    ),
    (  # "earliest" is the ledger's append order (its serial order under the payee's lock)
        [
            accrue(1, 1000, day(0)),
            accrue(2, 800, day(0)),
            release(2, 800, day(9)),
            release(1, 1000, day(8)),  # appended later though dated earlier
            payout(1, 1400, day(10)),
        ],
        1,
        AVAILABLE,
        1000,
        {"accrued_at", "released_at"},
    ),
    (
        [
            accrue(1, 1000, day(0)),
            accrue(2, 800, day(0)),
            release(1, 1000, day(8)),
            release(2, 800, day(9)),
            payout(1, 1400, day(10)),
        ],
        2,
        AVAILABLE,
        800,
        {"accrued_at", "released_at"},
    ),
    (  # a clawed-back commission does not soak up a later payout meant for others
        [
            accrue(1, 1000, day(0)),
            release(1, 1000, day(8)),
            cut(1, 0, 1000, day(9)),
            accrue(2, 1500, day(9)),
            release(2, 1500, day(17)),
            payout(1, 1500, day(18)),
        ],
        2,
        PAID,
        1500,
        {"accrued_at", "released_at", "paid_at"},
    ),
]


@pytest.mark.parametrize(("history", "commission", "state", "amount", "dates"), CASES)
def test_credit_states(history, commission, state, amount, dates):
    result = state_of(credit_states(entries(*history)), commission)
    assert (result.state, result.amount_minor) == (state, amount)
    named = ("accrued_at", "released_at", "reversed_at", "paid_at")
    assert {name for name in named if getattr(result, name) is not None} == dates


def test_dates_are_the_entries_times():
    history = entries(accrue(1, 1000, day(0)), release(1, 1000, day(8)), payout(7, 1000, day(9)))
    result = credit_states(reversed(history))[1]  # the rule sorts by append order (id) itself
    assert (result.accrued_at, result.released_at, result.paid_at) == (day(0), day(8), day(9))


def test_a_commission_without_entries_is_credit_without_pay():
    assert state_of({}, 5).state == NO_PAY


@pytest.mark.parametrize(
    ("available", "minimum", "blocker"),
    [(-1, 1000, NEGATIVE_BALANCE), (0, 1000, BELOW_MINIMUM), (999, 1000, BELOW_MINIMUM),
     (1000, 1000, None), (0, 0, BELOW_MINIMUM), (5, 0, None)],
)  # fmt: skip
def test_payout_blocker(available, minimum, blocker):
    assert payout_blocker(available, minimum) == blocker

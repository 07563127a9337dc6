"""The payout state machine, as a table; and the sandbox's failing test accounts."""

from __future__ import annotations

import pytest

from commerce.attribution import ledger_rules as lr
from commerce.attribution import payout_rules as P
from commerce.payments.sandbox import payout_failure

# (current, reported, next state or None for "already there", whether money goes back)
MOVES = [
    (P.REQUESTED, P.PAID, P.PAID, False),
    (P.REQUESTED, P.FAILED, P.FAILED, True),
    (P.PAID, P.FAILED, P.FAILED, True),  # the bank returned it after the provider said paid
    (P.REQUESTED, P.REQUESTED, None, False),
    (P.PAID, P.PAID, None, False),
    (P.FAILED, P.FAILED, None, False),  # a repeated failure never gives the money back twice
]
ILLEGAL = [
    (P.FAILED, P.PAID),
    (P.FAILED, P.REQUESTED),
    (P.PAID, P.REQUESTED),
    (P.REQUESTED, "in_transit"),
    ("unknown", P.PAID),
]


@pytest.mark.parametrize(("current", "wanted", "after", "returns"), MOVES)
def test_legal_payout_moves(current, wanted, after, returns):
    assert P.next_state(current, wanted) == after
    assert P.returns_money(current, wanted) is returns


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
def test_illegal_payout_moves_are_errors(current, wanted):
    with pytest.raises(P.IllegalPayoutTransition) as error:
        P.next_state(current, wanted)
    assert (error.value.current, error.value.wanted) == (current, wanted)


def test_every_state_has_a_row_and_failed_is_final():
    assert set(P.TRANSITIONS) == set(P.STATES)
    assert P.TRANSITIONS[P.FAILED] == frozenset()


def test_a_returned_payout_moves_paid_back_to_available():
    assert lr.payout_returned(1500) == [lr.Posting("paid", -1500), lr.Posting("available", 1500)]
    assert lr.balances(lr.payout(2000, 1500, 1000) + lr.payout_returned(1500)) == {
        "pending": 0,
        "available": 0,
        "paid": 0,
        "cancelled": 0,
    }


@pytest.mark.parametrize(
    ("account", "failure"),
    [
        ("ann@example.com", None),
        ("ann+payout_closed@example.com", "account_closed"),
        ("Ann+Payout_Invalid@example.com", "invalid_account"),
        ("payout_closed@example.com", None),  # only the tag, not a name that looks like it
        ("ann+payout_closed.x@example.com", None),
    ],
)
def test_sandbox_test_accounts(account, failure):
    assert payout_failure(account) == failure

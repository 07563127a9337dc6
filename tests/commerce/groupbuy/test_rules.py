"""The group's state machine and leader-free eligibility, as tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.groupbuy import rules
from commerce.groupbuy.rules import (
    COMPLETES,
    FILLS,
    HELD,
    IGNORED,
    LEADER,
    MEMBER,
    NEW_GROUP,
    OPENS,
    PAID,
    RELEASED,
)

NOW = datetime(2026, 12, 6, 12, 0)
LATER = NOW + timedelta(hours=1)
EARLIER = NOW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("role", "seat", "group", "size", "paid", "expires", "step"),
    [
        # the leader pays: the group opens (a group of one would complete at once)
        (LEADER, HELD, rules.PENDING, 3, 0, None, OPENS),
        # members fill an open group; the last seat completes it
        (MEMBER, HELD, rules.OPEN, 3, 1, LATER, FILLS),
        (MEMBER, HELD, rules.OPEN, 3, 2, LATER, COMPLETES),
        (MEMBER, HELD, rules.OPEN, 2, 1, LATER, COMPLETES),
        # the group closed while the member paid: they lead a new group, never over-fill
        (MEMBER, HELD, rules.FAILED, 3, 1, EARLIER, NEW_GROUP),
        (MEMBER, HELD, rules.SUCCEEDED, 3, 3, LATER, NEW_GROUP),
        (MEMBER, HELD, rules.OPEN, 3, 1, EARLIER, NEW_GROUP),  # window over, job not run yet
        (MEMBER, HELD, rules.OPEN, 3, 1, NOW, NEW_GROUP),  # the window's end is exclusive
        # a released seat (its order expired) cannot be filled
        (MEMBER, RELEASED, rules.OPEN, 3, 1, LATER, NEW_GROUP),
        # a replayed payment changes nothing
        (MEMBER, PAID, rules.OPEN, 3, 2, LATER, IGNORED),
        (LEADER, PAID, rules.OPEN, 3, 1, LATER, IGNORED),
    ],
)
def test_payment_step(role, seat, group, size, paid, expires, step):
    assert (
        rules.payment_step(
            role=role,
            seat_state=seat,
            group_state=group,
            size=size,
            paid=paid,
            expires_at=expires,
            now=NOW,
        )
        == step
    )


@pytest.mark.parametrize(
    ("state", "size", "paid", "held", "expires", "holds"),
    [
        (rules.OPEN, 3, 1, 0, LATER, True),
        (rules.OPEN, 3, 1, 1, LATER, True),
        (rules.OPEN, 3, 1, 2, LATER, False),  # the last seats are held by payers
        (rules.OPEN, 3, 3, 0, LATER, False),
        (rules.OPEN, 3, 1, 0, EARLIER, False),
        (rules.PENDING, 3, 0, 1, None, False),  # nobody joins before the leader paid
        (rules.FAILED, 3, 1, 0, LATER, False),
        (rules.SUCCEEDED, 3, 3, 0, LATER, False),
    ],
)
def test_may_hold_a_seat(state, size, paid, held, expires, holds):
    assert rules.may_hold(state, size, paid, held, expires, NOW) is holds


@pytest.mark.parametrize(
    ("current", "wanted", "legal"),
    [
        (rules.PENDING, rules.OPEN, True),
        (rules.PENDING, rules.ABANDONED, True),
        (rules.OPEN, rules.SUCCEEDED, True),
        (rules.OPEN, rules.FAILED, True),
        (rules.OPEN, rules.PENDING, False),
        (rules.FAILED, rules.SUCCEEDED, False),
        (rules.SUCCEEDED, rules.FAILED, False),
        (rules.ABANDONED, rules.OPEN, False),
    ],
)
def test_group_moves(current, wanted, legal):
    if legal:
        assert rules.check_move(current, wanted) == wanted
    else:
        with pytest.raises(rules.IllegalGroupMove):
            rules.check_move(current, wanted)


@pytest.mark.parametrize(
    ("state", "expires", "expired"),
    [
        (rules.OPEN, EARLIER, True),
        (rules.OPEN, NOW, True),
        (rules.OPEN, LATER, False),
        (rules.SUCCEEDED, EARLIER, False),
        (rules.PENDING, None, False),
    ],
)
def test_expiry(state, expires, expired):
    assert rules.is_expired(state, expires, NOW) is expired


@pytest.mark.parametrize(
    ("state", "expires", "shown"),
    [
        (rules.OPEN, EARLIER, rules.FAILED),  # before the job ran: the check on read
        (rules.OPEN, LATER, rules.OPEN),
        (rules.SUCCEEDED, EARLIER, rules.SUCCEEDED),
        (rules.FAILED, EARLIER, rules.FAILED),
        (rules.PENDING, None, rules.PENDING),
    ],
)
def test_effective_state(state, expires, shown):
    assert rules.effective_state(state, expires, NOW) == shown


DELIVERED = NOW - timedelta(days=8)
BASE = {
    "leader_free": True,
    "group_state": rules.SUCCEEDED,
    "order_state": "delivered",
    "delivered_at": DELIVERED,
    "refund_open": False,
    "now": NOW,
    "return_window": timedelta(days=7),
    "quota_left": 1,
    "budget_left": 700,
    "amount": 700,
}


@pytest.mark.parametrize(
    ("change", "eligible", "reason"),
    [
        ({}, True, "ok"),
        ({"order_state": "completed"}, True, "ok"),
        ({"leader_free": False}, False, "not_offered"),
        ({"group_state": rules.OPEN}, False, "group_not_succeeded"),
        ({"group_state": rules.FAILED}, False, "group_not_succeeded"),
        ({"order_state": "paid", "delivered_at": None}, False, "not_delivered"),
        ({"order_state": "shipped", "delivered_at": None}, False, "not_delivered"),
        ({"order_state": "refunded"}, False, "not_delivered"),
        ({"refund_open": True}, False, "refund_open"),
        ({"delivered_at": NOW - timedelta(days=6)}, False, "return_window_open"),
        ({"quota_left": 0}, False, "quota_spent"),
        ({"budget_left": 699}, False, "budget_spent"),
        ({"amount": 0}, False, "nothing_to_rebate"),
    ],
)
def test_leader_free_eligibility(change, eligible, reason):
    verdict = rules.leader_rebate(**{**BASE, **change})
    assert (verdict.eligible, verdict.reason) == (eligible, reason)


@pytest.mark.parametrize(
    ("reason", "waits"),
    [
        ("return_window_open", True),
        ("not_delivered", True),
        ("refund_open", True),
        ("quota_spent", False),
        ("budget_spent", False),
        ("not_offered", False),
    ],
)
def test_which_refusals_are_asked_again(reason, waits):
    assert rules.rebate_waits(reason) is waits


def test_seats_left():
    assert [rules.seats_left(3, p, h) for p, h in [(0, 0), (1, 1), (2, 1), (3, 0)]] == [3, 1, 0, 0]

"""Group buying rules: the group's state machine, seats, expiry, leader-free eligibility.
Pure functions, no framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A group's states. PENDING: the leader is paying (not listed, nobody can join). OPEN: the leader
# paid, members join until it is full (SUCCEEDED) or its window ends (FAILED, all refunded).
# ABANDONED: the leader never paid.
PENDING, OPEN, SUCCEEDED, FAILED, ABANDONED = "pending", "open", "succeeded", "failed", "abandoned"
STATES = (PENDING, OPEN, SUCCEEDED, FAILED, ABANDONED)
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({OPEN, SUCCEEDED, ABANDONED}),
    OPEN: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
    ABANDONED: frozenset(),
}

# A seat's states.
HELD, PAID, RELEASED, REFUNDED = "held", "paid", "released", "refunded"
LEADER, MEMBER = "leader", "member"

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_GROUP_SIZE = 50


class IllegalGroupMove(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a group cannot go from {current} to {wanted}")
        self.current, self.wanted = current, wanted


def check_move(current: str, wanted: str) -> str:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalGroupMove(current, wanted)
    return wanted


def seats_left(size: int, paid: int, held: int) -> int:
    return max(size - paid - held, 0)


def may_hold(
    state: str, size: int, paid: int, held: int, expires_at: datetime | None, now: datetime
) -> bool:
    """The conditional UPDATE's condition, spelled out: an open, unexpired group with a seat."""
    return state == OPEN and expires_at is not None and now < expires_at and paid + held < size


def is_expired(state: str, expires_at: datetime | None, now: datetime) -> bool:
    """An open group whose window has ended without filling (a full group is SUCCEEDED)."""
    return state == OPEN and expires_at is not None and now >= expires_at


def effective_state(state: str, expires_at: datetime | None, now: datetime) -> str:
    """The check on read: an open group past its window shows as failed before the job runs."""
    return FAILED if is_expired(state, expires_at, now) else state


# What a payment does to the seat it was made for (payment_step).
OPENS = "opens"  # the leader paid: the group opens and its window starts
FILLS = "fills"  # a member paid into an open group
COMPLETES = "completes"  # ... and that was the last seat: the group succeeds
NEW_GROUP = "new_group"  # the group closed meanwhile: the payer leads a new group
IGNORED = "ignored"  # the seat was already paid (a replay)


def payment_step(
    *,
    role: str,
    seat_state: str,
    group_state: str,
    size: int,
    paid: int,
    expires_at: datetime | None,
    now: datetime,
) -> str:
    """What a paid order does to its group. A held seat is the payer's; a seat that was
    released or whose group closed (failed, abandoned, expired) cannot be filled, so the payer
    leads a new group instead of over-filling or joining a dead one. No virtual members."""
    if seat_state == PAID:
        return IGNORED
    if seat_state != HELD:
        return NEW_GROUP
    if role == LEADER and group_state == PENDING:
        return COMPLETES if size <= 1 else OPENS
    if group_state != OPEN or (expires_at is not None and now >= expires_at):
        return NEW_GROUP
    return COMPLETES if paid + 1 >= size else FILLS


@dataclass(frozen=True)
class Rebate:
    eligible: bool
    reason: str


def leader_rebate(
    *,
    leader_free: bool,
    group_state: str,
    order_state: str,
    delivered_at: datetime | None,
    refund_open: bool,
    now: datetime,
    return_window: timedelta,
    quota_left: int,
    budget_left: int,
    amount: int,
) -> Rebate:
    """团长免单: after the group succeeded AND the leader's return window has passed (delivered
    plus the window, no refund asked), within the campaign's quota and budget. The quota and
    budget are taken again atomically when it is paid; this says whether to try."""
    if not leader_free:
        return Rebate(False, "not_offered")
    if group_state != SUCCEEDED:
        return Rebate(False, "group_not_succeeded")
    if order_state not in ("delivered", "completed") or delivered_at is None:
        return Rebate(False, "not_delivered")
    if refund_open:
        return Rebate(False, "refund_open")
    if now < delivered_at + return_window:
        return Rebate(False, "return_window_open")
    if amount <= 0:
        return Rebate(False, "nothing_to_rebate")
    if quota_left <= 0:
        return Rebate(False, "quota_spent")
    if budget_left < amount:
        return Rebate(False, "budget_spent")
    return Rebate(True, "ok")


def rebate_waits(reason: str) -> bool:
    """Reasons that may change later (ask again at the next run) rather than close the rebate."""
    return reason in ("not_delivered", "refund_open", "return_window_open")


def window_end(paid_at: datetime, window_minutes: int) -> datetime:
    return paid_at + timedelta(minutes=window_minutes)

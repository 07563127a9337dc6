"""Settling groups: expired groups refund every paid member; full groups rebate their leader
(团长免单) after the return window, within the campaign's quota and budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from commerce.groupbuy import rules
from commerce.groupbuy.broadcast import publish_group
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.groupbuy.seats import give_limits_back, paid_seats, tell_group
from commerce.orders.models import Order
from commerce.orders.rules import PAID_STATES, REQUEST_OPEN
from commerce.payments.provider import PaymentProvider
from commerce.payments.services import do_refund

Reverse = Callable[[Order], None]
EXPIRED_BATCH = 50


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def expired_group_ids(session: Session, now: datetime, limit: int = EXPIRED_BATCH) -> list[int]:
    return list(
        session.scalars(
            select(Group.id)
            .where(Group.state == rules.OPEN, Group.expires_at <= now)
            .order_by(Group.expires_at)
            .limit(limit)
        )
    )


def do_fail_group(
    session: Session, group: Group, provider: PaymentProvider, now: datetime, reverse: Reverse
) -> bool:
    """Open → failed exactly once (a conditional UPDATE), then refund every paid member in full
    through the refund service: stock back, commissions reversed, the member told."""
    moved = session.execute(
        update(Group)
        .where(Group.id == group.id, Group.state == rules.OPEN, Group.paid < Group.size)
        .values(state=rules.FAILED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rows(moved) != 1:
        return False
    session.refresh(group)
    seats = paid_seats(session, group)
    for seat in seats:
        order = session.get(Order, seat.order_id) if seat.order_id else None
        if order is not None and order.state in PAID_STATES:
            left = order.total_minor - order.refunded_minor
            order.ship_hold = None
            if left > 0:
                do_refund(
                    session,
                    provider,
                    order,
                    order.merchant,
                    now,
                    amount_minor=left,
                    reason="group did not fill in time",
                    restock=True,
                    idempotency_key=f"group-failed-{group.public_id}-{order.public_id}",
                    reverse=reverse,
                )
        seat.state = rules.REFUNDED
        give_limits_back(session, seat.campaign_id, seat.user_id)  # a failed group counts not
    tell_group(session, group, "failed", [s.user_id for s in seats], now)
    publish_group(session, group, now)
    return True


def do_expire_groups(
    session: Session, provider: PaymentProvider, now: datetime, reverse: Reverse
) -> int:
    failed = 0
    for group_id in expired_group_ids(session, now):
        group = session.get(Group, group_id)
        if group is not None and do_fail_group(session, group, provider, now, reverse):
            failed += 1
    return failed


def rebate_candidates(session: Session, limit: int = 100) -> list[Group]:
    return list(
        session.scalars(
            select(Group)
            .join(GroupCampaign, GroupCampaign.id == Group.campaign_id)
            .where(
                Group.state == rules.SUCCEEDED,
                Group.rebate_state == "",
                GroupCampaign.leader_free.is_(True),
            )
            .order_by(Group.closed_at)
            .limit(limit)
        )
    )


def leader_order(session: Session, group: Group) -> Order | None:
    seat = session.scalar(
        select(GroupSeat).where(
            GroupSeat.group_id == group.id,
            GroupSeat.role == rules.LEADER,
            GroupSeat.state == rules.PAID,
        )
    )
    return session.get(Order, seat.order_id) if seat is not None and seat.order_id else None


def _take_budget(session: Session, campaign_id: int, amount: int) -> bool:
    """SET free_used + 1, free_spent + amount WHERE within the quota and the budget."""
    taken = session.execute(
        update(GroupCampaign)
        .where(
            GroupCampaign.id == campaign_id,
            GroupCampaign.free_used < GroupCampaign.free_quota,
            GroupCampaign.free_spent_minor + amount <= GroupCampaign.free_budget_minor,
        )
        .values(
            free_used=GroupCampaign.free_used + 1,
            free_spent_minor=GroupCampaign.free_spent_minor + amount,
        )
        .execution_options(synchronize_session=False)
    )
    return _rows(taken) == 1


def do_rebate_leader(
    session: Session,
    group: Group,
    provider: PaymentProvider,
    now: datetime,
    return_window: timedelta,
    reverse: Reverse,
) -> str:
    """Decide one group's leader rebate; returns the reason (ok when paid)."""
    campaign = group.campaign
    order = leader_order(session, group)
    if order is None:
        group.rebate_state = "none"
        return "no_leader_order"
    amount = order.total_minor - order.refunded_minor
    verdict = rules.leader_rebate(
        leader_free=campaign.leader_free,
        group_state=group.state,
        order_state=order.state,
        delivered_at=order.delivered_at,
        refund_open=order.refund_request_state == REQUEST_OPEN,
        now=now,
        return_window=return_window,
        quota_left=campaign.free_quota - campaign.free_used,
        budget_left=campaign.free_budget_minor - campaign.free_spent_minor,
        amount=amount,
    )
    if not verdict.eligible:
        if not rules.rebate_waits(verdict.reason):
            group.rebate_state = "none"
        return verdict.reason
    claimed = session.execute(
        update(Group)
        .where(Group.id == group.id, Group.rebate_state == "")
        .values(rebate_state="paid", rebate_minor=amount, rebated_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rows(claimed) != 1:
        return "decided"
    if not _take_budget(session, campaign.id, amount):
        group.rebate_state = "none"
        session.execute(
            update(Group)
            .where(Group.id == group.id)
            .values(rebate_state="none", rebate_minor=0, rebated_at=None)
        )
        return "budget_spent"
    # The rebate is a refund of the leader's order; reversing its commissions makes the
    # order's commission base 0: it credits nobody.
    do_refund(
        session,
        provider,
        order,
        order.merchant,
        now,
        amount_minor=amount,
        reason="leader rides free",
        restock=False,
        idempotency_key=f"leader-free-{group.public_id}",
        reverse=reverse,
    )
    session.refresh(group)
    tell_group(session, group, "rebate", [order.buyer_id], now)
    publish_group(session, group, now)  # the group page says the leader rode free
    return "ok"


def do_rebate_leaders(
    session: Session,
    provider: PaymentProvider,
    now: datetime,
    return_window: timedelta,
    reverse: Reverse,
) -> int:
    paid = 0
    for group in rebate_candidates(session):
        if do_rebate_leader(session, group, provider, now, return_window, reverse) == "ok":
            paid += 1
    return paid

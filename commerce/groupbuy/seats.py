"""What a payment or a released order does to a group seat: open the group, fill it, complete
it (its orders may ship), seat the payer as the leader of a new group, or free the seat."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from commerce.groupbuy import rules
from commerce.groupbuy.broadcast import publish_group
from commerce.groupbuy.models import Group, GroupBuyer, GroupCampaign, GroupSeat
from commerce.locking import lock_row
from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.orders.models import Order, OrderEvent


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def new_public_id() -> str:
    return secrets.token_urlsafe(9)


def give_limits_back(session: Session, campaign_id: int, user_id: int) -> None:
    session.execute(
        update(GroupBuyer)
        .where(
            GroupBuyer.campaign_id == campaign_id,
            GroupBuyer.user_id == user_id,
            GroupBuyer.taken > 0,
        )
        .values(taken=GroupBuyer.taken - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(GroupCampaign)
        .where(GroupCampaign.id == campaign_id, GroupCampaign.taken > 0)
        .values(taken=GroupCampaign.taken - 1)
        .execution_options(synchronize_session=False)
    )


def seat_of_order(session: Session, order_id: int) -> GroupSeat | None:
    return session.scalar(select(GroupSeat).where(GroupSeat.order_id == order_id))


def do_release_seat(session: Session, order: Order, now: datetime) -> bool:
    """An unpaid order was cancelled or expired: its held seat and its limits come back, once."""
    seat = seat_of_order(session, order.id)
    if seat is None:
        return False
    released = session.execute(
        update(GroupSeat)
        .where(GroupSeat.id == seat.id, GroupSeat.state == rules.HELD)
        .values(state=rules.RELEASED)
        .execution_options(synchronize_session=False)
    )
    if _rows(released) != 1:
        return False
    session.execute(
        update(Group)
        .where(Group.id == seat.group_id, Group.held > 0)
        .values(held=Group.held - 1)
        .execution_options(synchronize_session=False)
    )
    if seat.role == rules.LEADER:
        session.execute(
            update(Group)
            .where(Group.id == seat.group_id, Group.state == rules.PENDING)
            .values(state=rules.ABANDONED, closed_at=now)
            .execution_options(synchronize_session=False)
        )
    give_limits_back(session, seat.campaign_id, seat.user_id)
    session.flush()
    session.expire(seat)
    group = session.get(Group, seat.group_id)
    if group is not None:
        publish_group(session, group, now)
    return True


def do_leave_on_refund(session: Session, order: Order, now: datetime) -> bool:
    """A paid member refunded in full while the group fills leaves it: the seat is free again,
    so the group never counts someone who did not pay (no virtual members). A group left
    without any paid member closes as failed."""
    if order.refunded_minor < order.total_minor:
        return False
    seat = seat_of_order(session, order.id)
    if seat is None or seat.state != rules.PAID:
        return False
    group = lock_row(session, Group, seat.group_id)
    assert group is not None
    if group.state != rules.OPEN:
        return False  # a full group's orders are its own; a failed group refunds itself
    seat.state = rules.REFUNDED
    group.paid -= 1
    if group.paid == 0:
        group.state, group.closed_at = rules.FAILED, now
    give_limits_back(session, seat.campaign_id, seat.user_id)
    order.ship_hold = None
    publish_group(session, group, now)
    return True


def do_seat_payment(session: Session, order: Order, now: datetime) -> str | None:
    """The order of a seat was paid: open the group, fill it, complete it, or (when it closed
    meanwhile) seat the payer as the leader of a new group. The group row is locked, so two
    payments for one group apply one after the other and it never over-fills."""
    seat = seat_of_order(session, order.id)
    if seat is None:
        return None
    group = lock_row(session, Group, seat.group_id)
    assert group is not None
    session.refresh(seat)
    campaign = group.campaign
    step = rules.payment_step(
        role=seat.role,
        seat_state=seat.state,
        group_state=group.state,
        size=group.size,
        paid=group.paid,
        expires_at=group.expires_at,
        now=now,
    )
    if step == rules.IGNORED:
        return step
    if step == rules.NEW_GROUP:
        if seat.state == rules.HELD:
            group.held -= 1
        publish_group(session, group, now)  # the closed group's held seat is free again
        group = Group(
            public_id=new_public_id(),
            campaign_id=campaign.id,
            leader_id=seat.user_id,
            state=rules.PENDING,
            size=campaign.group_size,
            held=1,
            created_at=now,
        )
        session.add(group)
        session.flush()
        seat.group_id, seat.role, seat.moved = group.id, rules.LEADER, True
        _history(session, order, "group closed: you lead a new group", now)
    seat.state, seat.paid_at = rules.PAID, now
    group.held -= 1
    group.paid += 1
    if group.state == rules.PENDING:
        rules.check_move(group.state, rules.OPEN)
        group.state, group.opened_at = rules.OPEN, now
        group.expires_at = rules.window_end(now, campaign.window_minutes)
    if group.paid >= group.size:
        rules.check_move(group.state, rules.SUCCEEDED)
        group.state, group.closed_at = rules.SUCCEEDED, now
        _succeeded(session, group, now)
    publish_group(session, group, now)
    return step


def paid_seats(session: Session, group: Group) -> list[GroupSeat]:
    return list(
        session.scalars(
            select(GroupSeat).where(GroupSeat.group_id == group.id, GroupSeat.state == rules.PAID)
        )
    )


def _succeeded(session: Session, group: Group, now: datetime) -> None:
    """Every paid order of the group may ship now; every member is told."""
    seats = paid_seats(session, group)
    for seat in seats:
        if seat.order_id:
            order = session.get(Order, seat.order_id)
            if order is not None:
                order.ship_hold = None
                _history(session, order, "group filled", now)
    tell_group(session, group, "succeeded", [s.user_id for s in seats], now)


def _history(session: Session, order: Order, note: str, now: datetime) -> None:
    """A line in the order's history (its state unchanged); orders translates the note."""
    session.add(
        OrderEvent(
            order_id=order.id, from_state=order.state, to_state=order.state, note=note, at=now
        )
    )


def tell_group(session: Session, group: Group, state: str, users: list[int], now: datetime) -> None:
    do_notify(
        session,
        kind=notify_rules.GROUP,
        event_key=f"group:{group.id}:{state}",
        now=now,
        users=users,
        params={
            "state": state,
            "title": group.campaign.product.title,
            "endpoint": "groupbuy.group_page",
            "args": {"public_id": group.public_id},
        },
    )

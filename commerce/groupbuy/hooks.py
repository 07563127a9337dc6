"""Group buying's listeners on lower areas: a paid order seats its payer, a released order frees
its seat, a group is a share target, a group-priced line is won through the group's link.

The seam: payments sends `order_paid` in the transaction that marked the order paid (after the
commissions were credited) and `order_refunded` after each refund; orders sends `order_released`
when an unpaid order is cancelled or expires. Neither area knows group buying exists
(importlinter layers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.attribution import crediting, links
from commerce.groupbuy.models import Group, GroupSeat
from commerce.groupbuy.present import group_target
from commerce.groupbuy.seats import do_leave_on_refund, do_release_seat, do_seat_payment
from commerce.orders.models import Order, OrderLine
from commerce.orders.services import order_released
from commerce.payments.services import order_paid, order_refunded


def seat_the_payer(order: Order, *, session: Session, now: datetime, **_: Any) -> None:
    do_seat_payment(session, order, now)


def free_the_seat(order: Order, *, session: Session, now: datetime, **_: Any) -> None:
    do_release_seat(session, order, now)


def leave_when_refunded(order: Order, *, session: Session, now: datetime, **_: Any) -> None:
    do_leave_on_refund(session, order, now)


def group_line_targets(session: Session, line: OrderLine) -> list[tuple[str, str]]:
    """A line bought into a group is won by a share of the group its buyer set out to join."""
    if line.group_seat_id is None:
        return []
    key = session.scalar(
        select(Group.public_id)
        .join(GroupSeat, GroupSeat.joined_group_id == Group.id)
        .where(GroupSeat.id == line.group_seat_id)
    )
    return [("group", key)] if key else []


def install() -> None:
    """Idempotent: a second app in one process (tests) does not connect twice."""
    order_paid.connect(seat_the_payer)
    order_released.connect(free_the_seat)
    order_refunded.connect(leave_when_refunded)
    links.EXTRA_TARGETS["group"] = group_target
    if group_line_targets not in crediting.LINE_TARGETS:
        crediting.LINE_TARGETS.append(group_line_targets)


def init_app(app: Flask) -> None:
    install()

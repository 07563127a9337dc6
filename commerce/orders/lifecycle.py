"""After payment: the state machine applied to stored orders, for buyers and merchants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.models import User
from commerce.catalog.models import Product, ProductImage
from commerce.errors import Conflict, NotFound
from commerce.locking import lock_row
from commerce.order_signals import order_delivered
from commerce.orders.models import Order, OrderEvent, OrderLine
from commerce.orders.notices import REFUND_DECLINED, notify_buyer
from commerce.orders.present import publish_order
from commerce.orders.rules import (
    COMPLETED,
    DELIVERED,
    FULFILMENT_ORDER,
    PAID,
    PAID_STATES,
    PARTIALLY_REFUNDED,
    REQUEST_APPROVED,
    REQUEST_DECLINED,
    REQUEST_OPEN,
    SHIPPED,
    IllegalTransition,
    check_transition,
    may_request_refund,
)
from commerce.pagination import decode_cursor, encode_cursor
from commerce.videos.engagement import do_record_purchases

# History notes keep a fixed English prefix (the pages translate it when they show the line).
REFUND_REQUESTED_NOTE = "refund requested: "
REFUND_DECLINED_NOTE = "refund declined: "

SHIP_HOLD_GROUP = "group"  # set and cleared by commerce/groupbuy

STATE_NAMES = {
    "pending_payment": "awaiting payment",
    "paid": "paid",
    "shipped": "shipped",
    "delivered": "delivered",
    "completed": "completed",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "partially_refunded": "partly refunded",
}


def access_order_for_buyer(session: Session, public_id: str, user: User) -> Order:
    order = session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None or order.buyer_id != user.id:
        raise NotFound(_("This order does not exist."))
    return order


def access_order_for_merchant(session: Session, public_id: str, user: User) -> Order:
    order = session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None or order.merchant_id != user.id:
        raise NotFound(_("This order does not exist."))
    return order


def access_order_for_party(session: Session, public_id: str, user: User) -> Order:
    order = session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None or user.id not in (order.buyer_id, order.merchant_id):
        raise NotFound(_("This order does not exist."))
    return order


# Counting a heavy seller's orders grows with them: past this many the list says "more than".
COUNT_LIMIT = 1000


@dataclass
class OrderList:
    items: list[Order]
    total: int  # exact up to COUNT_LIMIT
    total_exact: bool
    next_cursor: str | None  # the page after this one, if any


def list_orders(
    session: Session,
    user: User,
    *,
    role: str,
    state: str | None,
    cursor: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> OrderList:
    """Newest first; by keyset after `cursor`, or by `page` (OFFSET, kept for old links)."""
    owner = Order.buyer_id if role == "buyer" else Order.merchant_id
    query = select(Order).where(owner == user.id)
    if state:
        query = query.where(Order.state == state)
    counted = (
        session.scalar(
            select(func.count()).select_from(
                query.with_only_columns(Order.id).limit(COUNT_LIMIT + 1).subquery()
            )
        )
        or 0
    )
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(Order.created_at < stamp, and_(Order.created_at == stamp, Order.id < ident))
        )
    else:
        query = query.offset((page - 1) * per_page)
    rows = list(
        session.scalars(
            query.order_by(Order.created_at.desc(), Order.id.desc())
            .limit(per_page + 1)
            .options(
                # the pages show each order's first picture: three queries per page, not per row
                selectinload(Order.lines)
                .selectinload(OrderLine.product)
                .selectinload(Product.images)
                .selectinload(ProductImage.object)
            )
        )
    )
    items = rows[:per_page]
    more = len(rows) > per_page
    return OrderList(
        items,
        total=min(counted, COUNT_LIMIT),
        total_exact=counted <= COUNT_LIMIT,
        next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None,
    )


def illegal(error: IllegalTransition) -> Conflict:
    return Conflict(
        _(
            "This order is %(current)s and cannot become %(wanted)s.",
            current=_(STATE_NAMES.get(error.current, error.current)),
            wanted=_(STATE_NAMES.get(error.wanted, error.wanted)),
        ),
        code="illegal_transition",
    )


def do_transition(
    session: Session,
    order: Order,
    wanted: str,
    now: datetime,
    *,
    actor_id: int | None,
    note: str = "",
    values: dict[str, Any] | None = None,
    publish: bool = True,
) -> Order:
    """Move the order if the state machine allows it and nobody moved it meanwhile."""
    current = order.state
    try:
        check_transition(current, wanted, fulfilment=order.fulfilment)
    except IllegalTransition as error:
        raise illegal(error) from error
    changes = dict(values or {})
    changes.update(state=wanted, updated_at=now)
    if wanted in FULFILMENT_ORDER:
        changes["fulfilment"] = wanted
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.state == current)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise Conflict(_("This order changed meanwhile: reload and try again."), code="stale")
    session.add(
        OrderEvent(
            order_id=order.id,
            from_state=current,
            to_state=wanted,
            actor_id=actor_id,
            note=note,
            at=now,
        )
    )
    if wanted == PAID:
        record_video_purchases(session, order)
    if wanted == DELIVERED:  # the return window starts: points wait it out
        order_delivered.send(order, session=session, now=now)
    notify_buyer(session, order, wanted, now)
    if publish:
        publish_order(session, order)
    else:
        session.flush()
        session.refresh(order)
    return order


def record_video_purchases(session: Session, order: Order) -> None:
    """Units bought from a video count in its For-you score (commerce/videos/rules.py)."""
    bought: dict[str, int] = {}
    for line in order.lines:
        if line.source_kind == "video" and line.source_key:
            bought[line.source_key] = bought.get(line.source_key, 0) + line.quantity
    if bought:
        do_record_purchases(session, bought)


def do_ship(session: Session, order: Order, merchant: User, tracking: str, now: datetime) -> Order:
    if order.ship_hold == SHIP_HOLD_GROUP:
        raise Conflict(
            _("This order waits for its group to fill: it can ship once the group succeeds."),
            code="waiting_for_group",
        )
    return do_transition(
        session,
        order,
        SHIPPED,
        now,
        actor_id=merchant.id,
        note=tracking,
        values={"tracking_number": tracking, "shipped_at": now},
    )


def do_mark_delivered(session: Session, order: Order, merchant: User, now: datetime) -> Order:
    return do_transition(
        session, order, DELIVERED, now, actor_id=merchant.id, values={"delivered_at": now}
    )


def do_complete(session: Session, order: Order, actor_id: int | None, now: datetime) -> Order:
    return do_transition(
        session, order, COMPLETED, now, actor_id=actor_id, values={"completed_at": now}
    )


def do_request_refund(
    session: Session, order: Order, buyer: User, reason: str, now: datetime
) -> Order:
    """The buyer asks; the seller answers by refunding (approved) or declining with a reason."""
    if order.state not in PAID_STATES:
        raise Conflict(_("Only a paid order can be refunded."), code="not_paid")
    lock_row(session, Order, order.id)  # two taps at once make one request
    if not may_request_refund(order.state, order.refund_request_state):
        raise Conflict(_("You already asked for a refund."), code="already_requested")
    order.refund_requested = True
    order.refund_request_state = REQUEST_OPEN
    order.refund_request_reason = reason
    order.refund_requested_at = now
    order.refund_decided_at = None
    order.refund_decline_reason = ""
    session.add(
        OrderEvent(
            order_id=order.id,
            from_state=order.state,
            to_state=order.state,
            actor_id=buyer.id,
            note=REFUND_REQUESTED_NOTE + reason,
            at=now,
        )
    )
    publish_order(session, order)
    return order


def do_decline_refund_request(
    session: Session, order: Order, merchant: User, reason: str, now: datetime
) -> Order:
    """The seller says no, and why; the buyer sees it and may ask again."""
    lock_row(session, Order, order.id)
    if order.refund_request_state != REQUEST_OPEN:
        raise Conflict(_("There is no refund request to answer."), code="no_refund_request")
    order.refund_requested = False
    order.refund_request_state = REQUEST_DECLINED
    order.refund_decided_at = now
    order.refund_decline_reason = reason
    session.add(
        OrderEvent(
            order_id=order.id,
            from_state=order.state,
            to_state=order.state,
            actor_id=merchant.id,
            note=REFUND_DECLINED_NOTE + reason,
            at=now,
        )
    )
    notify_buyer(session, order, REFUND_DECLINED, now)
    publish_order(session, order)
    return order


def refund_request_settled(order: Order, now: datetime) -> dict[str, Any]:
    """The columns a refund writes: an open request is answered by it (approved)."""
    if order.refund_request_state != REQUEST_OPEN:
        return {}
    return {
        "refund_requested": False,
        "refund_request_state": REQUEST_APPROVED,
        "refund_decided_at": now,
    }


def do_auto_complete(session: Session, now: datetime, after_days: int) -> int:
    """Delivered orders the buyer did not confirm complete by themselves after N days."""
    due = session.scalars(
        select(Order)
        .where(
            Order.state.in_((DELIVERED, PARTIALLY_REFUNDED)),
            Order.fulfilment == DELIVERED,
            Order.delivered_at.is_not(None),
            Order.delivered_at < now - timedelta(days=after_days),
        )
        .limit(200)
    ).all()
    for order in due:
        do_complete(session, order, None, now)
    return len(due)

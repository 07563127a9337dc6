"""The buyer is told of their order's steps: paid, shipped, delivered, refunded, refund declined."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.orders.models import Order
from commerce.orders.rules import DELIVERED, PAID, PARTIALLY_REFUNDED, REFUNDED, SHIPPED

TOLD_STATES = frozenset({PAID, SHIPPED, DELIVERED, REFUNDED, PARTIALLY_REFUNDED})
REFUND_DECLINED = "refund_declined"


def notify_buyer(session: Session, order: Order, step: str, now: datetime) -> None:
    """Queued in the transaction that moved the order; the key makes a repeat tell nobody."""
    if step not in TOLD_STATES and step != REFUND_DECLINED:
        return
    do_notify(
        session,
        kind=notify_rules.ORDER,
        event_key=f"order:{order.id}:{step}:{now.isoformat()}",
        now=now,
        users=[order.buyer_id],
        params={
            "state": step,
            "code": order.public_id,
            "endpoint": "orders.order_page",
            "args": {"public_id": order.public_id},
        },
    )

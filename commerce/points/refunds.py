"""What cancellations and refunds do to points: spent points come back per line, held earnings
shrink or are cancelled, credited earnings are taken back down to a zero balance (the rest is
recorded as a shortfall). Keys carry the running total owed back, so a replay adds nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from commerce.points import ledger, rules
from commerce.points.models import (
    CANCELLED,
    HELD,
    PURCHASE,
    PURCHASE_BACK,
    SHARE,
    SHARE_BACK,
    SPEND,
    SPEND_BACK,
    PointsEntry,
    PointsHold,
)
from commerce.points.services import OrderLike

BACK = {PURCHASE: PURCHASE_BACK, SHARE: SHARE_BACK}


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _given_back_so_far(session: Session, line_id: int, kind: str) -> int:
    """Points already given back (or taken back, with what could not be) for a line."""
    amount, short = session.execute(
        select(
            func.coalesce(func.sum(func.abs(PointsEntry.amount)), 0),
            func.coalesce(func.sum(PointsEntry.shortfall), 0),
        ).where(PointsEntry.order_line_id == line_id, PointsEntry.kind == kind)
    ).one()
    return int(amount) + int(short)


def do_give_back_spent(
    session: Session, order: OrderLike, now: datetime, *, cancelled: bool = False
) -> int:
    """Spent points back to the buyer, per line: all of them for a cancelled order or a line
    refunded in full, else in proportion to the refund. Keyed by the running total given back,
    so a replay gives nothing twice."""
    spend = session.scalar(
        select(PointsEntry).where(PointsEntry.order_id == order.id, PointsEntry.kind == SPEND)
    )
    if spend is None:
        return 0
    back = 0
    for line in order.lines:
        if not line.points_used:
            continue
        target = (
            line.points_used
            if cancelled
            else rules.given_back(line.points_used, line.amount_minor, line.refunded_minor)
        )
        delta = target - _given_back_so_far(session, line.id, SPEND_BACK)
        if delta <= 0:
            continue
        ledger.post(
            session,
            user_id=order.buyer_id,
            kind=SPEND_BACK,
            amount=delta,
            key=f"{SPEND_BACK}:{line.id}:{target}",
            now=now,
            order_id=order.id,
            order_line_id=line.id,
            # never later than the points it used; already past: out at the next expiry run
            expires_at=max(spend.expires_at, now) if spend.expires_at else None,
        )
        back += delta
    return back


def do_adjust_for_refund(
    session: Session, order: OrderLike, now: datetime, terms: rules.Terms
) -> None:
    """After a refund: held points shrink to what the line still earns (cancelled at zero);
    points already credited are taken back, down to a zero balance (the rest is recorded as a
    shortfall); spent points come back in proportion."""
    holds = {
        (hold.order_line_id, hold.kind): hold
        for hold in session.scalars(
            select(PointsHold)
            .where(PointsHold.order_id == order.id)
            .execution_options(populate_existing=True)
        )
    }
    for line in order.lines:
        paid_left = max(line.amount_minor - line.refunded_minor, 0)
        for kind, per_major in ((PURCHASE, terms.earn_per_major), (SHARE, terms.share_per_major)):
            hold = holds.get((line.id, kind))
            if hold is None or hold.state == CANCELLED:
                continue
            still = min(rules.earned(paid_left, per_major, terms.minor_per_major), hold.amount)
            if hold.state == HELD:
                result = session.execute(
                    update(PointsHold)
                    .where(PointsHold.id == hold.id, PointsHold.state == HELD)
                    .values(amount=still, state=HELD if still else CANCELLED)
                    .execution_options(synchronize_session=False)
                )
                if _rows(result) == 1:
                    continue
                session.refresh(hold)  # released meanwhile: take back instead
            _take_back(session, hold, hold.amount - still, now)
    do_give_back_spent(session, order, now)


def _take_back(session: Session, hold: PointsHold, target: int, now: datetime) -> None:
    back = BACK[hold.kind]
    delta = target - _given_back_so_far(session, hold.order_line_id, back)
    if delta <= 0:
        return
    account = ledger.lock_account(session, hold.user_id)
    taken, short = rules.take_back(delta, account.balance)
    ledger.post(
        session,
        user_id=hold.user_id,
        kind=back,
        amount=-taken,
        key=f"{back}:{hold.order_line_id}:{target}",
        now=now,
        order_id=hold.order_id,
        order_line_id=hold.order_line_id,
        shortfall=short,
    )

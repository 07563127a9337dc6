"""Platform admins review held commissions: approve, reject, or ban the sharer."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import ledger
from commerce.attribution.fraud import BANNED_SHARER, same_person_signals
from commerce.attribution.ledger_rules import AVAILABLE, PENDING
from commerce.attribution.models import (
    REVIEW_APPROVED,
    REVIEW_HELD,
    REVIEW_REJECTED,
    Commission,
    FraudFlag,
)
from commerce.attribution.services import is_banned
from commerce.errors import Conflict, Forbidden, NotFound
from commerce.order_signals import SHARE_VOID, SHARE_WAIT
from commerce.orders.models import OrderLine

APPROVE, REJECT = "approve", "reject"


def check_admin(user: User) -> User:
    if not user.is_admin:
        raise Forbidden(_("Only platform admins can review commissions."))
    return user


def held_commissions(session: Session, limit: int = 200) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.review == REVIEW_HELD)
            .order_by(Commission.id)
            .limit(limit)
        )
    )


def flags_by_order(session: Session, order_ids: list[int]) -> dict[int, list[FraudFlag]]:
    result: dict[int, list[FraudFlag]] = {}
    if not order_ids:
        return result
    for flag in session.scalars(
        select(FraudFlag).where(FraudFlag.order_id.in_(order_ids)).order_by(FraudFlag.id)
    ):
        result.setdefault(flag.order_id or 0, []).append(flag)
    return result


def _close_flags(session: Session, commission: Commission, admin: User, state: str) -> None:
    line = session.get(OrderLine, commission.order_line_id)
    if line is None:
        return
    for flag in session.scalars(
        select(FraudFlag).where(FraudFlag.order_id == line.order_id, FraudFlag.state == "open")
    ):
        still_held = session.scalar(
            select(Commission.id)
            .join(OrderLine, OrderLine.id == Commission.order_line_id)
            .where(
                OrderLine.order_id == line.order_id,
                Commission.review == REVIEW_HELD,
                Commission.id != commission.id,
            )
        )
        if still_held is None:
            flag.state = state
            flag.reviewed_by = admin.id


def do_review_commission(
    session: Session, admin: User, commission_id: int, decision: str, now: datetime
) -> Commission:
    """Approve (releasable after the hold as usual) or reject (cancelled through the ledger)."""
    check_admin(admin)
    commission = session.get(Commission, commission_id)
    if commission is None:
        raise NotFound(_("This commission does not exist."))
    if commission.review != REVIEW_HELD:
        raise Conflict(_("This commission is not waiting for review."), code="not_held")
    if decision == APPROVE:
        commission.review = REVIEW_APPROVED
        _close_flags(session, commission, admin, "dismissed")
    elif decision == REJECT:
        commission.review = REVIEW_REJECTED
        ledger.do_reduce(session, commission, 0, event="reject", at=now)
        _close_flags(session, commission, admin, "confirmed")
    else:
        raise Conflict(_("Choose approve or reject."), code="bad_decision")
    session.flush()
    return commission


def do_ban_sharer(session: Session, admin: User, user_id: int, now: datetime) -> int:
    """Ban a sharer: no new shares, and every commission still pending is cancelled.

    Money already released stays (it was earned and reviewed); returns how many were cancelled.
    """
    check_admin(admin)
    sharer = session.get(User, user_id)
    if sharer is None:
        raise NotFound(_("This account does not exist."))
    subject = f"user:{user_id}"
    if (
        session.scalar(
            select(FraudFlag.id).where(
                FraudFlag.kind == BANNED_SHARER, FraudFlag.subject == subject
            )
        )
        is None
    ):
        session.add(
            FraudFlag(
                kind=BANNED_SHARER,
                subject=subject,
                user_id=user_id,
                state="confirmed",
                reviewed_by=admin.id,
                created_at=now,
            )
        )
    cancelled = 0
    for commission in session.scalars(
        select(Commission).where(Commission.user_id == user_id, Commission.amount_minor > 0)
    ):
        buckets = ledger.commission_buckets(session, commission.id)
        if buckets[PENDING] <= 0:
            continue
        # Cut only what is pending: keep the available part (do_reduce takes pending first).
        if ledger.do_reduce(session, commission, buckets[AVAILABLE], event="ban", at=now):
            cancelled += 1
        commission.review = REVIEW_REJECTED  # never released, whatever its review said
    session.flush()
    return cancelled


def share_reward_verdict(session: Session, order_line_id: int, sharer_id: int) -> str | None:
    """Whether a sharer's non-cash reward for a purchase (points) may be credited now: the same
    review as her commission on that line. Banned or rejected: never; held: later. A line that
    pays her no commission (a zero rate) was never reviewed: the buyer looking like her (e-mail,
    phone, browser) cancels the points, as there is no money for an admin to decide on."""
    if is_banned(session, sharer_id):
        return SHARE_VOID
    commissions = session.execute(
        select(Commission.review, Commission.amount_minor).where(
            Commission.order_line_id == order_line_id, Commission.user_id == sharer_id
        )
    ).all()
    reviews = {review for review, _amount in commissions}
    if REVIEW_REJECTED in reviews:
        return SHARE_VOID
    if REVIEW_HELD in reviews:
        return SHARE_WAIT
    if any(amount > 0 for _review, amount in commissions):
        return None  # reviewed with the money: nothing was found, or an admin approved
    line = session.get(OrderLine, order_line_id)
    if line is not None and same_person_signals(session, line.order_id, sharer_id):
        return SHARE_VOID
    return None

"""Settling invitations once the first order's return window has passed: void, flag for review,
or reward; and the operator's review of flagged ones (approve: reward; reject: void)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.models import FraudFlag
from commerce.errors import Conflict, Forbidden, NotFound
from commerce.invites import rules
from commerce.invites.checks import signals_for
from commerce.invites.models import Invitation
from commerce.invites.rewards import do_reward
from commerce.invites.services import do_move
from commerce.orders.models import Order
from commerce.orders.rules import REQUEST_OPEN

APPROVE, REJECT = "approve", "reject"
BATCH = 100


def due_candidates(
    session: Session, now: datetime, settings: rules.Settings, limit: int = BATCH
) -> list[int]:
    """First-paid invitations whose first order was delivered a hold ago, or has been refunded
    (void). Not-yet-delivered ones are not read at every run."""
    query = (
        select(Invitation.id)
        .join(Order, Order.id == Invitation.first_order_id)
        .where(
            Invitation.state == rules.FIRST_PAID,
            (Order.delivered_at <= now - settings.hold) | (Order.state == "refunded"),
        )
        .order_by(Invitation.first_paid_at, Invitation.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def do_flag(
    session: Session,
    invitation: Invitation,
    signals: list[tuple[str, str]],
    now: datetime,
) -> bool:
    """first_paid -> flagged, and one fraud flag per signal for the review queue."""
    if not do_move(session, invitation, (rules.FIRST_PAID,), rules.FLAGGED, now, flagged_at=now):
        return False
    subject = f"invite:{invitation.id}"
    for kind, detail in signals:
        exists = session.scalar(
            select(FraudFlag.id).where(FraudFlag.kind == kind, FraudFlag.subject == subject)
        )
        if exists is None:
            session.add(
                FraudFlag(
                    kind=kind,
                    subject=subject,
                    user_id=invitation.sharer_id,
                    detail=f"{detail} (first order {invitation.first_order_id})",
                    created_at=now,
                )
            )
    session.flush()
    return True


def do_settle(
    session: Session, invitation: Invitation, now: datetime, settings: rules.Settings
) -> str:
    """Decide one first-paid invitation; returns what happened or why it waits."""
    if invitation.state != rules.FIRST_PAID:
        return "decided"
    order = session.get(Order, invitation.first_order_id) if invitation.first_order_id else None
    if order is None:
        return "no_order"
    verdict = rules.reward_verdict(
        order_state=order.state,
        delivered_at=order.delivered_at,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        refund_open=order.refund_request_state == REQUEST_OPEN,
        now=now,
        settings=settings,
    )
    if verdict.action == rules.END:
        moved = do_move(
            session, invitation, (rules.FIRST_PAID,), rules.VOID, now, reason=verdict.reason
        )
        return verdict.reason if moved else "decided"
    if verdict.action == rules.WAIT:
        return verdict.reason
    if invitation.review != rules.APPROVED:
        signals = signals_for(session, invitation, order, settings)
        if signals:
            return "flagged" if do_flag(session, invitation, signals, now) else "decided"
    return do_reward(session, invitation, now, settings)


# The operator's review -----------------------------------------------------------------------


def check_admin(user: User) -> User:
    if not user.is_admin:
        raise Forbidden(_l("Only platform admins can review invitations."))
    return user


def flagged(session: Session, limit: int = 200) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.state == rules.FLAGGED)
            .order_by(Invitation.flagged_at, Invitation.id)
            .limit(limit)
        )
    )


def flags_of(session: Session, invitations: list[Invitation]) -> dict[int, list[FraudFlag]]:
    subjects = {f"invite:{i.id}": i.id for i in invitations}
    found: dict[int, list[FraudFlag]] = {}
    if not subjects:
        return found
    rows = session.scalars(
        select(FraudFlag).where(FraudFlag.subject.in_(list(subjects))).order_by(FraudFlag.id)
    )
    for flag in rows:
        found.setdefault(subjects[flag.subject], []).append(flag)
    return found


def _close_flags(session: Session, invitation: Invitation, admin: User, state: str) -> None:
    for flag in flags_of(session, [invitation]).get(invitation.id, []):
        if flag.state == "open":
            flag.state, flag.reviewed_by = state, admin.id


def do_review(
    session: Session,
    admin: User,
    invitation_id: int,
    decision: str,
    now: datetime,
    settings: rules.Settings,
) -> str:
    """Approve: the checks are cleared and the sharer is rewarded now (or at the next run if a
    cap is full). Reject: void. Returns what happened."""
    check_admin(admin)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(_l("This invitation does not exist."))
    if decision not in (APPROVE, REJECT):
        raise Conflict(_l("Choose approve or reject."), code="bad_decision")
    values = {"decided_by": admin.id, "decided_at": now}
    if decision == REJECT:
        if not do_move(
            session, invitation, (rules.FLAGGED,), rules.VOID, now, reason=rules.REJECTED, **values
        ):
            raise Conflict(_l("This invitation is not waiting for review."), code="not_flagged")
        _close_flags(session, invitation, admin, "confirmed")
        return "rejected"
    if not do_move(
        session,
        invitation,
        (rules.FLAGGED,),
        rules.FIRST_PAID,
        now,
        review=rules.APPROVED,
        **values,
    ):
        raise Conflict(_l("This invitation is not waiting for review."), code="not_flagged")
    _close_flags(session, invitation, admin, "dismissed")
    return do_reward(session, invitation, now, settings)

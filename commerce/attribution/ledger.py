"""The commission ledger in the database: append entries once per event, read balances as sums."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import ledger_rules, notices, projection
from commerce.attribution.ledger_rules import AVAILABLE, PENDING, PayoutRefused, Posting
from commerce.attribution.models import (
    REVIEW_APPROVED,
    REVIEW_NONE,
    Commission,
    LedgerEntry,
    Payout,
)
from commerce.errors import Conflict, ValidationFailed
from commerce.locking import lock_key, lock_row
from commerce.money import format_money
from commerce.orders.models import Order, OrderLine
from commerce.timeutil import utcnow


def post(
    session: Session,
    *,
    payee_id: int,
    currency: str,
    kind: str,
    event_key: str,
    postings: list[Posting],
    commission_id: int | None = None,
    payout_id: int | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> bool:
    """Append the postings of one event; an event already posted appends nothing (False)."""
    if not postings:
        return False
    lock_payees(session, [payee_id])
    exists = session.scalar(select(LedgerEntry.id).where(LedgerEntry.event_key == event_key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():  # a racing duplicate fails alone, not the whole transaction
            rows = [
                LedgerEntry(
                    payee_id=payee_id,
                    commission_id=commission_id,
                    payout_id=payout_id,
                    event_key=event_key,
                    kind=kind,
                    bucket=posting.bucket,
                    amount_minor=posting.amount_minor,
                    currency=currency,
                    reason=reason,
                    created_at=at or utcnow(),
                )
                for posting in postings
            ]
            session.add_all(rows)
            session.flush()
            projection.record(session, payee_id, currency, rows)
    except IntegrityError:
        return False
    return True


def lock_payees(session: Session, payee_ids: list[int]) -> None:
    """Serialise appends to these payees' ledgers until the transaction ends, so each payee's
    entries get ids in the order their projection was computed. Lock in id order: a payment
    credits several people, and two payments locking them in different orders would deadlock."""
    for payee_id in sorted(set(payee_ids)):
        lock_key(session, LedgerEntry, f"ledger-payee:{payee_id}")


def commission_buckets(session: Session, commission_id: int) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.bucket, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.commission_id == commission_id)
        .group_by(LedgerEntry.bucket)
    ).all()
    totals = dict.fromkeys(ledger_rules.BUCKETS, 0)
    totals.update({bucket: int(total) for bucket, total in rows})
    return totals


def do_accrue(session: Session, commission: Commission, at: datetime) -> bool:
    return post(
        session,
        payee_id=commission.user_id,
        currency=commission.currency,
        kind="accrue",
        event_key=f"accrue:{commission.id}",
        postings=ledger_rules.accrue(commission.amount_minor),
        commission_id=commission.id,
        at=at,
    )


def do_reduce(
    session: Session, commission: Commission, new_amount_minor: int, event: str, at: datetime
) -> bool:
    """Lower a commission to `new_amount_minor` (after a refund or a rejection)."""
    buckets = commission_buckets(session, commission.id)
    earned = buckets[PENDING] + buckets[AVAILABLE]
    postings = ledger_rules.reduce_commission(buckets[PENDING], earned, new_amount_minor)
    return post(
        session,
        payee_id=commission.user_id,
        currency=commission.currency,
        kind="refund" if event.startswith("refund") else "reject",
        event_key=f"{event}:{commission.id}",
        postings=postings,
        commission_id=commission.id,
        at=at,
    )


def do_release(session: Session, commission: Commission, at: datetime) -> bool:
    buckets = commission_buckets(session, commission.id)
    released = post(
        session,
        payee_id=commission.user_id,
        currency=commission.currency,
        kind="release",
        event_key=f"release:{commission.id}",
        postings=ledger_rules.release(buckets[PENDING]),
        commission_id=commission.id,
        at=at,
    )
    if released:
        notices.commission_available(session, commission, at)
    return released


def do_release_due(session: Session, now: datetime, hold_days: int) -> int:
    """Pending commissions whose order was delivered before the hold began become available.

    Commissions held for review are skipped until an admin approves them.
    """
    cutoff = now - timedelta(days=hold_days)
    released_before = select(LedgerEntry.commission_id).where(LedgerEntry.kind == "release")
    due = session.scalars(
        select(Commission)
        .join(OrderLine, OrderLine.id == Commission.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.delivered_at.is_not(None),
            Order.delivered_at <= cutoff,
            Commission.amount_minor > 0,
            Commission.review.in_([REVIEW_NONE, REVIEW_APPROVED]),
            Commission.id.not_in(released_before),
        )
        .order_by(Commission.id)
    ).all()
    lock_payees(session, [commission.user_id for commission in due])
    return sum(do_release(session, commission, now) for commission in due)


def balances_for(session: Session, user_id: int) -> dict[str, dict[str, int]]:
    """{currency: {bucket: total}} for one payee, as stored with each append."""
    return projection.balances_of(session, user_id)


def payout_by_key(session: Session, payee_id: int, idempotency_key: str) -> Payout | None:
    return session.scalar(
        select(Payout).where(Payout.payee_id == payee_id, Payout.idempotency_key == idempotency_key)
    )


def do_return_payout(session: Session, payout: Payout, reason: str, at: datetime) -> bool:
    """A failed payout's money goes back from paid to available, once (keyed by the payout)."""
    return post(
        session,
        payee_id=payout.payee_id,
        currency=payout.currency,
        kind="payout_failed",
        event_key=f"payout_failed:{payout.id}",
        postings=ledger_rules.payout_returned(payout.amount_minor),
        payout_id=payout.id,
        at=at,
        reason=reason,
    )


def do_request_payout(
    session: Session,
    payee: User,
    *,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    minimum_minor: int,
    now: datetime | None = None,
) -> Payout:
    """Move money from available to paid for a payout; the same key returns the same payout."""
    # Serialise payouts of one payee so two requests cannot both spend the same balance (on
    # SQLite too, where FOR UPDATE is ignored); taken before looking for the key, so a
    # concurrent retry of the same request finds the first one.
    lock_row(session, User, payee.id)
    existing = payout_by_key(session, payee.id, idempotency_key)
    if existing is not None:
        if existing.amount_minor != amount_minor or existing.currency != currency:
            raise Conflict(_("This idempotency key was used for a different payout."))
        return existing
    available = balances_for(session, payee.id).get(currency, {}).get(AVAILABLE, 0)
    try:
        postings = ledger_rules.payout(available, amount_minor, minimum_minor)
    except PayoutRefused as exc:
        messages = {
            "negative_balance": _(
                "Refunds after an earlier payout are being netted first: no payout until the "
                "available balance is positive again."
            ),
            "below_minimum": _(
                "The minimum payout is %(minimum)s.",
                minimum=format_money(minimum_minor, currency),
            ),
            "above_available": _("That is more than your available balance."),
        }
        raise ValidationFailed(messages[exc.reason], code=exc.reason) from exc
    payout = Payout(
        payee_id=payee.id,
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key=idempotency_key,
        created_at=now or utcnow(),
    )
    session.add(payout)
    session.flush()
    post(
        session,
        payee_id=payee.id,
        currency=currency,
        kind="payout",
        event_key=f"payout:{payout.id}",
        postings=postings,
        payout_id=payout.id,
        at=payout.created_at,
    )
    return payout

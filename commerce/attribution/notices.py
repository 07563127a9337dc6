"""Earners are told when a commission becomes available and when a payout is paid."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.attribution.models import Commission, Payout
from commerce.money import format_money
from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.timeutil import utcnow


def commission_available(session: Session, commission: Commission, at: datetime) -> None:
    _tell_amount(
        session,
        notify_rules.COMMISSION,
        f"commission:{commission.id}",
        commission.user_id,
        format_money(commission.amount_minor, commission.currency),
        at,
    )


def payout_paid(session: Session, payout: Payout, at: datetime) -> None:
    _tell_amount(
        session,
        notify_rules.PAYOUT,
        f"payout:{payout.id}",
        payout.payee_id,
        format_money(payout.amount_minor, payout.currency),
        at,
    )


def _tell_amount(
    session: Session, kind: str, event_key: str, user_id: int, amount: str, at: datetime
) -> None:
    """One earner told of an amount; the notice opens their earnings page.

    Stamped when told, not at `at`: a payout's time is the provider's event time, whole seconds
    and possibly older than the release told a moment before, and the inbox sorts by the stamp.
    """
    do_notify(
        session,
        kind=kind,
        event_key=event_key,
        now=max(at, utcnow()),
        users=[user_id],
        params={"amount": amount, "endpoint": "attribution.earnings", "args": {}},
    )

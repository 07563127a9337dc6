"""Group buying's housekeeping: groups past their window fail and refund; leaders of full
groups get their rebate after the return window."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from commerce.attribution.crediting import policy_from_config
from commerce.attribution.fraud import settings_from_config
from commerce.groupbuy import settle
from commerce.jobs.runner import periodic
from commerce.payments.services import commission_hooks
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow


def reverse_hook(session: Session, now: datetime) -> settle.Reverse:
    config = current_app.config
    _credit, reverse = commission_hooks(
        session,
        policy_from_config(config),
        config["ATTRIBUTION_WINDOW_DAYS"],
        now,
        settings_from_config(config),
    )
    return reverse


def return_window() -> timedelta:
    config = current_app.config
    return timedelta(days=config["GROUP_LEADER_RETURN_DAYS"])


@periodic(20, setting="GROUP_EXPIRY_SECONDS")
def expire_groups(session: Session) -> None:
    """Groups whose window ended without filling: every paid member refunded, once."""
    now = utcnow()
    settle.do_expire_groups(session, provider(), now, reverse_hook(session, now))


@periodic(3600, setting="GROUP_REBATE_SECONDS")
def rebate_leaders(session: Session) -> None:
    now = utcnow()
    settle.do_rebate_leaders(session, provider(), now, return_window(), reverse_hook(session, now))

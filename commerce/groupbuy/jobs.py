"""Group buying's housekeeping: groups past their window fail and refund; leaders of full
groups get their rebate after the return window."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from commerce.attribution.crediting import policy_from_config
from commerce.attribution.fraud import settings_from_config
from commerce.errors import DomainError
from commerce.groupbuy import settle
from commerce.groupbuy.models import Group
from commerce.jobs.runner import periodic
from commerce.payments.services import commission_hooks
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)


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
    """Groups whose window ended without filling: every paid member refunded, once. One commit
    per group: a refund the provider refuses holds back only its own group (retried next run)."""
    now = utcnow()
    reverse = reverse_hook(session, now)
    for group_id in settle.expired_group_ids(session, now):
        group = session.get(Group, group_id)
        try:
            if group is not None:
                settle.do_fail_group(session, group, provider(), now, reverse)
            session.commit()
        except DomainError:
            session.rollback()
            log.exception("group %s could not be refunded; retried at the next run", group_id)


@periodic(3600, setting="GROUP_REBATE_SECONDS")
def rebate_leaders(session: Session) -> None:
    now = utcnow()
    reverse = reverse_hook(session, now)
    for group in settle.rebate_candidates(session):
        group_id = group.id
        try:
            settle.do_rebate_leader(session, group, provider(), now, return_window(), reverse)
            session.commit()
        except DomainError:
            session.rollback()
            log.exception("the leader of group %s could not be rebated", group_id)

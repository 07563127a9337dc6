"""Attribution jobs: send requested payouts to the provider; release commissions after the hold."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from commerce.attribution import ledger, payouts
from commerce.jobs.registry import PAYMENTS
from commerce.jobs.runner import JobContext, job_handler, periodic
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)


def _gave_up(session: Session, payload: dict[str, Any], error: str) -> None:
    # Not failed automatically: the provider may have received the transfer and only its answer
    # was lost, so giving the money back could pay twice. Re-queueing the job is always safe.
    log.error("payout %s not handed to the provider after all retries: %s", payload, error)


@job_handler(payouts.SEND_JOB, queue=PAYMENTS, priority=5, on_failure=_gave_up)
def send_payout(payload: dict[str, Any], ctx: JobContext) -> None:
    """The runner commits after this returns; a crash before that retries with the same key."""
    payouts.do_send_payout(
        ctx.session,
        current_app.extensions["payments"],
        int(payload["payout_id"]),
        webhook_url=str(payload.get("webhook_url") or ""),
    )


@periodic(60, setting="COMMISSION_RELEASE_EVERY_SECONDS")
def release_due_commissions(session: Session) -> None:
    """Commissions whose hold after delivery has ended become available for a payout."""
    released = ledger.do_release_due(session, utcnow(), current_app.config["COMMISSION_HOLD_DAYS"])
    if released:
        log.info("released %d commissions", released)

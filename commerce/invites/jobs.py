"""Invite housekeeping from the app's own scheduler: joined invitations past their order window
become void; first orders past their return window reward their sharer (or are flagged)."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from commerce.errors import DomainError
from commerce.invites import services, settle
from commerce.invites.models import Invitation
from commerce.invites.rules import settings_from_config
from commerce.jobs.runner import periodic
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)


@periodic(60, setting="INVITE_EXPIRE_EVERY_SECONDS")
def expire_invitations(session: Session) -> None:
    """Reads check the window too; this keeps the stored state and the lists current."""
    services.do_expire_joined(session, utcnow())


@periodic(60, setting="INVITE_REWARD_EVERY_SECONDS")
def reward_invitations(session: Session) -> None:
    """One commit per invitation: a step refused holds back only its own invitation."""
    settings = settings_from_config(current_app.config)
    for invitation_id in settle.due_candidates(session, utcnow(), settings):
        try:
            invitation = session.get(Invitation, invitation_id)
            if invitation is not None:
                outcome = settle.do_settle(session, invitation, utcnow(), settings)
                log.info("invitation %s: %s", invitation_id, outcome)
            session.commit()
        except DomainError:
            session.rollback()
            log.exception(
                "invitation %s could not be settled; retried at the next run", invitation_id
            )

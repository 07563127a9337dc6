"""Points housekeeping, run once per deployment by the app's own scheduler: held points whose
return window has passed are credited; points past their date expire."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from commerce.jobs.runner import periodic
from commerce.points import services
from commerce.points.rules import terms_from_config
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)


@periodic(60, setting="POINTS_RELEASE_EVERY_SECONDS")
def release_held_points(session: Session) -> None:
    released = services.do_release_due(session, utcnow(), terms_from_config(current_app.config))
    if released:
        log.info("credited %d held points earnings", released)


@periodic(3600, setting="POINTS_EXPIRE_EVERY_SECONDS")
def expire_points(session: Session) -> None:
    expired = services.do_expire_due(session, utcnow())
    if expired:
        log.info("expired the points of %d people", expired)

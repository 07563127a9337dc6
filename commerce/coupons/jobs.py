"""Housekeeping for coupons: claimed coupons past their validity become expired."""

from __future__ import annotations

from sqlalchemy.orm import Session

from commerce.coupons import claims
from commerce.jobs.runner import periodic
from commerce.timeutil import utcnow


@periodic(60, setting="COUPON_EXPIRE_EVERY_SECONDS")
def expire_coupons(session: Session) -> None:
    """Reads check validity too; this keeps the stored state and the lists current."""
    claims.do_expire_coupons(session, utcnow())

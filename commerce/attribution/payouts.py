"""Payout requests: the ledger moves available to paid, then the payout provider sends the money.

The only provider so far is the sandbox, which pays at once; a real one would be called from a
job after the commit and mark the payout paid (or failed, appending a reversal) from its webhook.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import ledger
from commerce.attribution.models import Payout


def sandbox_reference(payout: Payout) -> str:
    digest = hashlib.sha256(f"{payout.payee_id}:{payout.id}".encode()).hexdigest()[:20]
    return f"sbx_po_{digest}"


def do_request_payout(
    session: Session,
    payee: User,
    *,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    minimum_minor: int,
    now: datetime,
) -> Payout:
    """Request a payout (same key, same payout) and have the sandbox provider pay it."""
    payout = ledger.do_request_payout(
        session,
        payee,
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key=idempotency_key,
        minimum_minor=minimum_minor,
        now=now,
    )
    if payout.state == "requested":
        payout.state = "paid"
        payout.provider_ref = sandbox_reference(payout)
        payout.paid_at = now
    session.flush()
    return payout


def payouts_of(session: Session, payee_id: int, limit: int = 50) -> list[Payout]:
    return list(
        session.scalars(
            select(Payout)
            .where(Payout.payee_id == payee_id)
            .order_by(Payout.created_at.desc(), Payout.id.desc())
            .limit(limit)
        )
    )

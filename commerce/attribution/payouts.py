"""Payouts: requested against the ledger, sent by a job, settled by the provider's signed webhook.

1. `do_request_payout` moves available -> paid in the ledger, creates the payout `requested` and
   queues the send job in the same transaction (the job row commits with the payout, or not at
   all, and no worker can run it before the commit).
2. `do_send_payout` (the job) hands the transfer to the provider with a key derived from the
   payout id, so a retried or duplicated job never pays twice.
3. `do_settle_payout` (the webhook) marks it paid or failed; a failure appends the entries that
   give the money back to the available balance.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution import ledger, notices, payout_rules
from commerce.attribution.models import Payout
from commerce.attribution.payout_rules import REQUESTED, IllegalPayoutTransition
from commerce.errors import Conflict, NotFound
from commerce.jobs.runner import enqueue
from commerce.locking import lock_row
from commerce.payments.provider import PaymentProvider

SEND_JOB = "attribution.send_payout"
# Retried with the runner's backoff (up to 10 min apart); safe because the provider call is keyed.
SEND_ATTEMPTS = 8
REFERENCE_PREFIX = "payout-"


def provider_key(payout: Payout) -> str:
    """Our reference at the provider, and the idempotency key of the transfer: one per payout."""
    return f"{REFERENCE_PREFIX}{payout.id}"


def payout_account(payee: User) -> str:
    """Where the money goes: the payee's login e-mail, as Alipay transfers take a logon id."""
    return payee.email


def do_request_payout(
    session: Session,
    payee: User,
    *,
    amount_minor: int,
    currency: str,
    idempotency_key: str,
    minimum_minor: int,
    webhook_url: str,
    now: datetime,
) -> Payout:
    """Request a payout (same key, same payout, nothing new) and queue its transfer."""
    seen = ledger.payout_by_key(session, payee.id, idempotency_key) is not None
    payout = ledger.do_request_payout(
        session,
        payee,
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key=idempotency_key,
        minimum_minor=minimum_minor,
        now=now,
    )
    if not seen:
        # A concurrent retry of the same request may queue a second job: harmless, the job
        # skips a payout already handed over and the provider dedups the key.
        enqueue(
            session,
            SEND_JOB,
            {"payout_id": payout.id, "webhook_url": webhook_url},
            max_attempts=SEND_ATTEMPTS,
        )
    return payout


def do_send_payout(
    session: Session, provider: PaymentProvider, payout_id: int, *, webhook_url: str
) -> Payout | None:
    """Hand a requested payout to the provider once; its outcome comes later by webhook."""
    payout = lock_row(session, Payout, payout_id)
    if payout is None or payout.state != REQUESTED or payout.provider_ref is not None:
        return payout  # settled or handed over by an earlier run
    payee = session.get(User, payout.payee_id)
    assert payee is not None
    result = provider.payout(
        account=payout_account(payee),
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        reference=provider_key(payout),
        webhook_url=webhook_url,
        idempotency_key=provider_key(payout),
    )
    # result.state is not trusted: only the signed webhook settles a payout.
    payout.provider_ref = result.id
    session.flush()
    return payout


def payout_for_event(session: Session, *, provider_ref: str, reference: str) -> Payout | None:
    """The payout a provider event is about, locked; None if it is not one of ours."""
    payout = None
    number = reference.removeprefix(REFERENCE_PREFIX)
    if reference.startswith(REFERENCE_PREFIX) and number.isdigit():
        payout = lock_row(session, Payout, int(number))
    if payout is None and provider_ref:
        found = session.scalar(select(Payout.id).where(Payout.provider_ref == provider_ref))
        payout = lock_row(session, Payout, found) if found is not None else None
    if payout is None or payout.provider_ref not in (None, provider_ref):
        return None
    if provider_ref:  # a real provider's webhook can overtake the send job's commit
        payout.provider_ref = provider_ref
    return payout


def do_settle_payout(
    session: Session,
    payout: Payout,
    wanted: str,
    *,
    at: datetime,
    failure_code: str | None = None,
) -> bool:
    """Move the payout to paid or failed; False if it was already there (a repeated report)."""
    try:
        state = payout_rules.next_state(payout.state, wanted)
    except IllegalPayoutTransition as exc:
        raise Conflict(
            _(
                "This payout cannot go from %(current)s to %(wanted)s.",
                current=exc.current,
                wanted=exc.wanted,
            ),
            code="illegal_payout_transition",
        ) from exc
    if state is None:
        return False
    if payout_rules.returns_money(payout.state, state):
        code = (failure_code or "failed")[:40]
        payout.failure_code = code
        payout.failed_at = at
        ledger.do_return_payout(session, payout, code, at)
    if state == payout_rules.PAID:
        payout.paid_at = at
        notices.payout_paid(session, payout, at)
    payout.state = state
    session.flush()
    return True


def access_payout(session: Session, payout_id: int, user: User) -> Payout:
    """A payout of the user's own; someone else's is as unknown as a missing one (404)."""
    payout = session.get(Payout, payout_id)
    if payout is None or payout.payee_id != user.id:
        raise NotFound(_("Payout not found."))
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

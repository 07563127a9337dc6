"""The one-reward-per-person checks: gather what is known of the invitee, the sharer and the
sharer's other invitees, and let rules.person_signals compare them.

Devices are the browser's random visitor id (commerce/visitor.py); addresses are compared as
digests of their normalised text; networks as the keyed hash of the sign-up IP; payment
instruments as the provider's card fingerprint on succeeded payments (commerce/payments).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.models import Share, ShareClick
from commerce.invites import rules
from commerce.invites.models import Invitation
from commerce.orders.models import Address, Order
from commerce.payments.models import SUCCEEDED, Payment

RECENT = 500  # rows per source: a sharer's devices, addresses and cards of the last while


def sharer_devices(session: Session, sharer_id: int) -> set[str]:
    """Browsers the sharer is known to use: where they shared, clicked, bought, signed up."""
    queries = [
        select(Share.device_id).where(Share.sharer_id == sharer_id),
        select(ShareClick.visitor_id).where(ShareClick.user_id == sharer_id),
        select(Order.device_id).where(Order.buyer_id == sharer_id),
        select(Invitation.device_id).where(Invitation.invitee_id == sharer_id),
    ]
    found: set[str] = set()
    for query in queries:
        found.update(d for d in session.scalars(query.distinct().limit(RECENT)) if d)
    return found


def sharer_instruments(session: Session, sharer_id: int) -> set[str]:
    """Cards the sharer paid with: her recent succeeded payments' fingerprints."""
    recent = (
        select(Payment.instrument_fingerprint)
        .join(Order, Order.id == Payment.order_id)
        .where(
            Order.buyer_id == sharer_id,
            Payment.state == SUCCEEDED,
            Payment.instrument_fingerprint.is_not(None),
        )
        .order_by(Payment.id.desc())
        .limit(RECENT)
    )
    return {f for f in session.scalars(recent) if f}


def first_order_instruments(session: Session, order_ids: list[int]) -> dict[int, set[str]]:
    """The cards that paid each of these (first) orders, by order id."""
    found: dict[int, set[str]] = {}
    if not order_ids:
        return found
    rows = session.execute(
        select(Payment.order_id, Payment.instrument_fingerprint).where(
            Payment.order_id.in_(order_ids),
            Payment.state == SUCCEEDED,
            Payment.instrument_fingerprint.is_not(None),
        )
    )
    for order_id, fingerprint in rows:
        if fingerprint:
            found.setdefault(order_id, set()).add(fingerprint)
    return found


def _sharer(session: Session, sharer: User) -> rules.Person:
    saved = session.scalars(select(Address).where(Address.user_id == sharer.id).limit(RECENT))
    shipped = session.scalars(
        select(Order.address)
        .where(Order.buyer_id == sharer.id, Order.paid_at.is_not(None))
        .order_by(Order.id.desc())
        .limit(RECENT)
    )
    addresses = [a.snapshot() for a in saved] + [dict(a or {}) for a in shipped]
    return rules.person(
        sharer.email,
        phones=[sharer.phone, *(a.get("phone") for a in addresses)],
        devices=sharer_devices(session, sharer.id),
        addresses=[rules.address_key(a) for a in addresses],
        instruments=sharer_instruments(session, sharer.id),
    )


def _invitee(session: Session, invitation: Invitation, order: Order | None) -> rules.Person:
    invitee = session.get(User, invitation.invitee_id)
    address = (order.address if order is not None else None) or {}
    paid_with = (
        first_order_instruments(session, [order.id]).get(order.id, set()) if order else set()
    )
    return rules.person(
        invitee.email if invitee is not None else None,
        phones=[invitee.phone if invitee is not None else None, address.get("phone")],
        devices=[invitation.device_id, invitation.order_device_id],
        addresses=[invitation.address_key],
        instruments=paid_with,
    )


def _others(
    session: Session, invitation: Invitation
) -> tuple[list[rules.Person], list[rules.Person]]:
    """(every other live invitee of the sharer, the rewarded ones), each with their first
    order's address and cards."""
    rows = session.execute(
        select(Invitation, Order.address)
        .outerjoin(Order, Order.id == Invitation.first_order_id)
        .where(
            Invitation.sharer_id == invitation.sharer_id,
            Invitation.id != invitation.id,
            Invitation.state != rules.VOID,
        )
        .order_by(Invitation.id.desc())
        .limit(RECENT)
    ).all()
    paid_with = first_order_instruments(
        session, [other.first_order_id for other, _address in rows if other.first_order_id]
    )
    others, rewarded = [], []
    for other, address in rows:
        seen = rules.person(
            phones=[(address or {}).get("phone")],
            devices=[other.device_id, other.order_device_id],
            addresses=[other.address_key],
            instruments=paid_with.get(other.first_order_id or 0, set()),
        )
        others.append(seen)
        if other.state == rules.REWARDED:
            rewarded.append(seen)
    return others, rewarded


def signups_from_network(session: Session, invitation: Invitation, settings: rules.Settings) -> int:
    """Invitees of this sharer who signed up from this invitee's network around the same time."""
    if not invitation.signup_ip_hash:
        return 0
    window = settings.ip_window
    return len(
        session.scalars(
            select(Invitation.id).where(
                Invitation.sharer_id == invitation.sharer_id,
                Invitation.signup_ip_hash == invitation.signup_ip_hash,
                Invitation.created_at > invitation.created_at - window,
                Invitation.created_at < invitation.created_at + window,
            )
        ).all()
    )


def signals_for(
    session: Session, invitation: Invitation, order: Order | None, settings: rules.Settings
) -> list[tuple[str, str]]:
    sharer = session.get(User, invitation.sharer_id)
    if sharer is None:
        return []
    others, rewarded = _others(session, invitation)
    return rules.person_signals(
        _invitee(session, invitation, order),
        _sharer(session, sharer),
        others,
        rewarded,
        signups_from_network=signups_from_network(session, invitation, settings),
        settings=settings,
    )

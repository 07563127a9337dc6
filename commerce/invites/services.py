"""Invite use cases: joining at sign-up (with the welcome coupon), the first paid order, a
refund that voids, expiry, and what a person sees. They flush, never commit.

Every state change is one conditional UPDATE (`... WHERE id = ? AND state IN (...)`): racing
webhooks, jobs and operators move an invitation once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.models import Share, ShareClick
from commerce.attribution.services import is_banned
from commerce.coupons.claims import do_grant
from commerce.coupons.models import Coupon, CouponTemplate
from commerce.errors import DomainError
from commerce.invites import rules
from commerce.invites.checks import sharer_devices
from commerce.invites.models import Invitation, WelcomeDevice
from commerce.invites.programme import programme, template_of
from commerce.locking import insert_ignore
from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.orders.models import Order
from commerce.orders.rules import REFUNDED

OPEN_STATES = (rules.FIRST_PAID, rules.FLAGGED)


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def do_move(
    session: Session,
    invitation: Invitation,
    from_states: tuple[str, ...],
    to_state: str,
    now: datetime,
    **values: Any,
) -> bool:
    """The conditional state transition: True when this call moved it (and nobody else did)."""
    for current in from_states:
        rules.check_move(current, to_state)
    if to_state in (rules.REWARDED, rules.VOID):
        values.setdefault("ended_at", now)
    moved = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.state.in_(from_states))
        .values(state=to_state, **values)
        .execution_options(synchronize_session=False)
    )
    if _rows(moved) != 1:
        return False
    session.refresh(invitation)
    return True


# Joining at sign-up ---------------------------------------------------------------------------


def arrival_click(
    session: Session, visitor_id: str | None, now: datetime, window: timedelta
) -> ShareClick | None:
    """The last share link this browser arrived through, within the attribution window."""
    if not visitor_id:
        return None
    return session.scalar(
        select(ShareClick)
        .where(
            ShareClick.visitor_id == visitor_id,
            ShareClick.at > now - window,
            ShareClick.at <= now,
        )
        .order_by(ShareClick.at.desc(), ShareClick.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Offer:
    """What a visitor who arrived through a share link is offered for signing up."""

    sharer: User
    welcome: CouponTemplate | None


def offer_for_visitor(
    session: Session, visitor_id: str | None, now: datetime, settings: rules.Settings
) -> Offer | None:
    click = arrival_click(session, visitor_id, now, settings.attribution_window)
    if click is None:
        return None
    sharer = session.get(User, click.share.sharer_id)
    if sharer is None:
        return None
    found = programme(session)
    welcome = template_of(session, found.welcome_template_id) if found else None
    usable = welcome is not None and welcome.state == "active" and welcome.claimed < welcome.total
    return Offer(sharer, welcome if usable else None)


def _paid_orders(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.buyer_id == user_id, Order.paid_at.is_not(None))
        )
        or 0
    )


def do_join(
    session: Session,
    invitee: User,
    *,
    visitor_id: str | None,
    ip_hash: str | None,
    now: datetime,
    settings: rules.Settings,
) -> Invitation | None:
    """A new account that arrived through someone's share link becomes their invitation, and
    gets the welcome coupon unless this device already had one (or is the sharer's)."""
    click = arrival_click(session, visitor_id, now, settings.attribution_window)
    share = session.get(Share, click.share_id) if click is not None else None
    verdict = rules.may_join(
        sharer_id=share.sharer_id if share is not None else None,
        invitee_id=invitee.id,
        clicked_at=click.at if click is not None else None,
        signed_up_at=now,
        window=settings.attribution_window,
        paid_orders_before=_paid_orders(session, invitee.id),
        sharer_banned=share is not None and is_banned(session, share.sharer_id),
    )
    if verdict != "ok" or share is None or click is None:
        return None
    invitation = Invitation(
        invitee_id=invitee.id,
        sharer_id=share.sharer_id,
        share_id=share.id,
        click_id=click.id,
        device_id=visitor_id,
        signup_ip_hash=ip_hash,
        order_by_at=now + settings.order_window,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(invitation)
    except IntegrityError:
        return session.scalar(select(Invitation).where(Invitation.invitee_id == invitee.id))
    _welcome(session, invitation, invitee, now)
    return invitation


class _DeviceUsed(Exception):
    """This browser already had a welcome coupon (raised to undo the savepoint)."""


def _welcome(session: Session, invitation: Invitation, invitee: User, now: datetime) -> None:
    found = programme(session)
    template = template_of(session, found.welcome_template_id) if found else None
    own = (invitation.device_id or "") in sharer_devices(session, invitation.sharer_id)
    verdict = rules.welcome_verdict(
        programme_ready=template is not None, own_device=own, device_free=True
    )
    if verdict == rules.WELCOME_GIVEN and template is not None:
        try:
            with session.begin_nested():
                # One per device: the first invitation to insert the device's row wins; the
                # row goes with the coupon, so a coupon refused leaves the device free.
                values = {"device_id": invitation.device_id, "invitation_id": invitation.id}
                if not insert_ignore(session, WelcomeDevice, {**values, "created_at": now}):
                    raise _DeviceUsed
                coupon = do_grant(session, template, invitee, now, source="welcome")
            invitation.welcome_coupon_id = coupon.id
        except _DeviceUsed:
            verdict = rules.welcome_verdict(
                programme_ready=True, own_device=False, device_free=False
            )
        except DomainError:  # paused, sold out, claim window over: the sign-up still stands
            verdict = rules.WELCOME_UNAVAILABLE
    invitation.welcome = verdict
    session.flush()
    if invitation.welcome_coupon_id is not None:
        tell(session, invitation, "welcome", invitation.invitee_id, now)


def tell(session: Session, invitation: Invitation, what: str, user_id: int, now: datetime) -> None:
    do_notify(
        session,
        kind=notify_rules.INVITE,
        event_key=f"invite:{invitation.id}:{what}",
        now=now,
        users=[user_id],
        params={"state": what, "endpoint": "invites.my_invites", "args": {}},
    )


# The first order -----------------------------------------------------------------------------


def open_invitation(session: Session, invitee_id: int) -> Invitation | None:
    return session.scalar(select(Invitation).where(Invitation.invitee_id == invitee_id))


def do_first_paid(session: Session, order: Order, now: datetime, settings: rules.Settings) -> bool:
    """The invitee's first qualifying paid order starts the reward's wait; later orders, and
    orders paid after the order window, never do."""
    invitation = open_invitation(session, order.buyer_id)
    if invitation is None or invitation.state != rules.JOINED:
        return False
    if rules.effective_state(invitation.state, invitation.order_by_at, now) == rules.VOID:
        do_move(session, invitation, (rules.JOINED,), rules.VOID, now, reason=rules.EXPIRED)
        return False
    if not rules.counts_as_first_order(order.total_minor - order.refunded_minor, settings):
        return False
    return do_move(
        session,
        invitation,
        (rules.JOINED,),
        rules.FIRST_PAID,
        now,
        first_order_id=order.id,
        first_paid_at=now,
        order_device_id=order.device_id,
        address_key=rules.address_key(order.address or {}),
    )


def do_void_on_refund(session: Session, order: Order, now: datetime) -> bool:
    """A first order refunded in full before the reward voids it; a partial refund waits for
    the reward's own check (below the minimum, it voids then)."""
    if order.state != REFUNDED:
        return False
    invitation = session.scalar(select(Invitation).where(Invitation.first_order_id == order.id))
    if invitation is None:
        return False
    return do_move(session, invitation, OPEN_STATES, rules.VOID, now, reason=rules.REFUNDED)


def do_expire_joined(session: Session, now: datetime, limit: int = 1000) -> int:
    """Joined invitations past their order window become void (the periodic job; reads check)."""
    ids = list(
        session.scalars(
            select(Invitation.id)
            .where(Invitation.state == rules.JOINED, Invitation.order_by_at <= now)
            .order_by(Invitation.order_by_at)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.id.in_(ids),
            Invitation.state == rules.JOINED,
            Invitation.order_by_at <= now,
        )
        .values(state=rules.VOID, reason=rules.EXPIRED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rows(result)


# What people see -----------------------------------------------------------------------------


def my_invitations(session: Session, sharer: User, limit: int = 200) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.sharer_id == sharer.id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(limit)
        )
    )


def first_orders(session: Session, invitations: list[Invitation]) -> dict[int, Order]:
    ids = [i.first_order_id for i in invitations if i.first_order_id is not None]
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))}


def welcome_coupon(session: Session, invitation: Invitation | None) -> Coupon | None:
    if invitation is None or invitation.welcome_coupon_id is None:
        return None
    return session.get(Coupon, invitation.welcome_coupon_id)

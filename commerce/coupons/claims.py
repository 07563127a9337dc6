"""Claiming coupons: one conditional UPDATE on the template's counter plus one on the holder's,
after the audience, live-room and task checks; grants (invite rewards); my coupons; expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, column, func, or_, select, table, update
from sqlalchemy.orm import Session

from commerce.accounts.models import RateEvent, User
from commerce.accounts.services import count_recent
from commerce.coupons import rules
from commerce.coupons.models import (
    ACTIVE,
    EXPIRED,
    FOLLOW,
    FOLLOWERS,
    GRANTED,
    NEW_CUSTOMERS,
    VALID,
    WATCH,
    Coupon,
    CouponHolding,
    CouponTemplate,
    LiveVoucher,
    RoomPresence,
)
from commerce.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from commerce.live.models import LiveRoom
from commerce.locking import insert_ignore
from commerce.social.models import FirstFollow, Follow

FIRST_FOLLOW_DAYS = 30
CLAIM_RATE = (30, timedelta(minutes=10))  # claims per account per window: a bot's cheap writes
# Orders sit above coupons: their table is named here, never imported.
_orders = table(
    "orders", column("buyer_id"), column("merchant_id"), column("paid_at"), column("id")
)


def affected_rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


# Claims --------------------------------------------------------------------------------------


def _check_audience(session: Session, template: CouponTemplate, user: User) -> None:
    if template.audience == FOLLOWERS:
        followee = template.creator_id if template.scope == rules.CREATOR else None
        followee = followee or template.merchant_id or template.owner_id
        follows = session.get(Follow, (user.id, followee))
        if follows is None:
            raise Forbidden(_("This coupon is for followers: follow first."), code="followers")
    elif template.audience == NEW_CUSTOMERS:
        query = select(func.count()).where(
            _orders.c.buyer_id == user.id, _orders.c.paid_at.is_not(None)
        )
        if template.merchant_id is not None:
            query = query.where(_orders.c.merchant_id == template.merchant_id)
        if session.scalar(query):
            raise Forbidden(
                _("This coupon is for new customers: you have bought here before."),
                code="new_customers",
            )


def pinned_voucher(session: Session, room: LiveRoom) -> LiveVoucher | None:
    return session.scalar(
        select(LiveVoucher)
        .where(LiveVoucher.room_id == room.id, LiveVoucher.unpinned_at.is_(None))
        .order_by(LiveVoucher.id.desc())
        .limit(1)
    )


def task_wait(
    session: Session, template: CouponTemplate, room: LiveRoom, user: User, now: datetime
) -> tuple[bool, int]:
    """(done, seconds still to watch) of the voucher's task for this viewer, on server time."""
    if template.task == WATCH:
        seen = session.get(RoomPresence, (room.id, user.id))
        if seen is None:
            return False, template.watch_seconds
        watched = (now - seen.first_seen_at).total_seconds()
        left = max(0, int(template.watch_seconds - watched + 0.999))
        return left == 0, left
    if template.task == FOLLOW:
        first = session.get(FirstFollow, (user.id, room.creator_id))
        following = session.get(Follow, (user.id, room.creator_id)) is not None
        recent = first is not None and first.first_at >= now - timedelta(days=FIRST_FOLLOW_DAYS)
        return following and recent, 0
    return True, 0


def _check_room(
    session: Session, template: CouponTemplate, room: LiveRoom | None, user: User, now: datetime
) -> None:
    if room is None:
        if template.live_only:
            raise Conflict(_("This voucher can only be claimed in its live room."), code="live")
        return
    pin = pinned_voucher(session, room)
    if pin is None or pin.template_id != template.id:
        raise Conflict(_("This voucher is not pinned in this room."), code="not_pinned")
    if room.state != "live":
        raise Conflict(_("Vouchers can be claimed only while the room is live."), code="not_live")
    done, left = task_wait(session, template, room, user, now)
    if not done and template.task == WATCH:
        raise Conflict(
            _("Keep watching: %(seconds)d more seconds to unlock this voucher.", seconds=left),
            code="watch_more",
        )
    if not done:
        raise Conflict(
            _("This voucher is for new followers of the host (first follow in 30 days)."),
            code="follow_first",
        )


def do_claim(
    session: Session,
    template: CouponTemplate,
    user: User,
    now: datetime,
    *,
    source: str,
    room: LiveRoom | None = None,
) -> Coupon:
    """Claim one coupon: the holder's counter (per person), then the template's (total), each a
    conditional UPDATE; a lost race takes nothing (the caller rolls the transaction back)."""
    if template.merchant_id == user.id or template.owner_id == user.id:
        raise ValidationFailed(_("You cannot claim your own coupon."), code="own_coupon")
    if template.state != ACTIVE:
        raise Conflict(_("This coupon is paused."), code="paused")
    if template.audience == GRANTED:
        raise Conflict(_("This coupon is given by the platform, not claimed."), code="granted")
    if not template.claim_starts_at <= now < template.claim_ends_at:
        raise Conflict(_("This coupon cannot be claimed at this time."), code="claim_window")
    if template.claimed >= template.total:
        # Fast refusal when already gone as read: no rows written and rolled back. The
        # conditional UPDATE below still decides for everyone who gets past this point.
        raise Conflict(_("All of this coupon have been claimed."), code="sold_out")
    _check_room(session, template, room, user, now)
    _check_audience(session, template, user)
    bucket, (limit, window) = f"coupon_claim:{user.id}", CLAIM_RATE
    if count_recent(session, bucket, now - window) >= limit:
        raise RateLimited(
            _("Too many coupon claims in a short time. Try again in a few minutes."),
            retry_after=int(window.total_seconds()),
        )
    session.add(RateEvent(bucket=bucket, at=now))
    return _take(session, template, user, now, source=source, room=room)


def do_grant(
    session: Session, template: CouponTemplate, user: User, now: datetime, *, source: str
) -> Coupon:
    """A coupon the platform gives rather than one a person claims (an invitation's welcome
    coupon, a sharer's invite reward): the template's window, audience, per-person limit and
    total hold as for a claim; no claim rate limit (nobody clicked), no live room."""
    if template.merchant_id == user.id or template.owner_id == user.id:
        raise ValidationFailed(_("You cannot claim your own coupon."), code="own_coupon")
    if template.state != ACTIVE:
        raise Conflict(_("This coupon is paused."), code="paused")
    if not template.claim_starts_at <= now < template.claim_ends_at:
        raise Conflict(_("This coupon cannot be claimed at this time."), code="claim_window")
    _check_audience(session, template, user)
    return _take(session, template, user, now, source=source, room=None)


def _take(
    session: Session,
    template: CouponTemplate,
    user: User,
    now: datetime,
    *,
    source: str,
    room: LiveRoom | None,
) -> Coupon:
    """The holder's counter (per person), then the template's (total), each a conditional
    UPDATE, then the coupon row; a lost race raises and takes nothing once rolled back.

    A granted template's per-person rule is its programme's (one welcome per invitation, one
    reward per invitee): the holder's counter still numbers the coupons, without a ceiling."""
    ceiling = CouponHolding.count < template.per_person
    if template.audience == GRANTED:
        ceiling = CouponHolding.count >= 0
    insert_ignore(
        session, CouponHolding, {"template_id": template.id, "user_id": user.id, "count": 0}
    )
    held = session.execute(
        update(CouponHolding)
        .where(
            CouponHolding.template_id == template.id,
            CouponHolding.user_id == user.id,
            ceiling,
        )
        .values(count=CouponHolding.count + 1)
        .returning(CouponHolding.count)
    ).scalar()
    if held is None:
        raise Conflict(
            _("You already hold as many of this coupon as one person may."), code="per_person"
        )
    taken = session.execute(
        update(CouponTemplate)
        .where(
            CouponTemplate.id == template.id,
            CouponTemplate.claimed < CouponTemplate.total,
            CouponTemplate.state == ACTIVE,
        )
        .values(claimed=CouponTemplate.claimed + 1)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(taken) != 1:
        raise Conflict(_("All of this coupon have been claimed."), code="sold_out")
    starts, ends = rules.expiry(now, template.valid_from, template.valid_until, template.valid_days)
    coupon = Coupon(
        template_id=template.id,
        user_id=user.id,
        n=held,
        source=source,
        room_id=room.id if room is not None else None,
        state=VALID if ends > now else EXPIRED,
        claimed_at=now,
        valid_from=starts,
        expires_at=ends,
    )
    session.add(coupon)
    session.flush()
    return coupon


# My coupons and expiry -----------------------------------------------------------------------


def do_expire_coupons(session: Session, now: datetime, limit: int = 1000) -> int:
    """Claimed coupons past their validity become expired (the periodic job; reads check too)."""
    ids = list(
        session.scalars(
            select(Coupon.id)
            .where(Coupon.state == VALID, Coupon.expires_at <= now)
            .order_by(Coupon.expires_at)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    result = session.execute(
        update(Coupon)
        .where(Coupon.id.in_(ids), Coupon.state == VALID, Coupon.expires_at <= now)
        .values(state=EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result)


def effective_state(coupon: Coupon, now: datetime) -> str:
    """The check on read: a valid coupon past its end is expired even before the job runs."""
    return EXPIRED if coupon.state == VALID and coupon.expires_at <= now else coupon.state


def my_coupons(session: Session, user: User, state: str, now: datetime) -> list[Coupon]:
    query = select(Coupon).where(Coupon.user_id == user.id)
    if state == VALID:
        query = query.where(Coupon.state == VALID, Coupon.expires_at > now)
    elif state == EXPIRED:
        query = query.where(
            or_(Coupon.state == EXPIRED, (Coupon.state == VALID) & (Coupon.expires_at <= now))
        )
    else:
        query = query.where(Coupon.state == state)
    return list(session.scalars(query.order_by(Coupon.expires_at, Coupon.id).limit(200)))

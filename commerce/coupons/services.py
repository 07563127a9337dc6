"""Coupon use cases: templates (create, change in the buyer's favour only, pause), claims (one
conditional UPDATE on the template's counter plus one on the holder's), my coupons, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, column, func, or_, select, table, update
from sqlalchemy.orm import Session

from commerce.accounts.models import RateEvent, User
from commerce.accounts.services import count_recent
from commerce.catalog.models import Product
from commerce.coupons import rules
from commerce.coupons.models import (
    ACTIVE,
    EXPIRED,
    FOLLOW,
    FOLLOWERS,
    GRANTED,
    NEW_CUSTOMERS,
    PAUSED,
    VALID,
    WATCH,
    Coupon,
    CouponHolding,
    CouponTemplate,
    LiveVoucher,
    RoomPresence,
)
from commerce.coupons.schemas import TemplateIn
from commerce.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from commerce.live.models import LiveRoom
from commerce.locking import insert_ignore
from commerce.social.models import FirstFollow, Follow

FIRST_FOLLOW_DAYS = 30
CLAIM_RATE = (30, timedelta(minutes=10))  # claims per account per window: a bot's cheap writes
# Orders sit above coupons: their table is named here, never imported.
_orders = table(
    "orders", column("buyer_id"), column("merchant_id"), column("paid_at"), column("id")
)


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def terms_of(t: CouponTemplate) -> rules.Terms:
    return rules.Terms(
        kind=t.kind,
        amount_minor=t.amount_minor,
        percent=t.percent,
        cap_minor=t.cap_minor,
        min_spend_minor=t.min_spend_minor,
        scope=t.scope,
        merchant_id=t.merchant_id,
        product_ids=tuple(t.product_ids or ()),
        creator_id=t.creator_id,
        funded_by=t.funded_by,
        currency=t.currency,
    )


def rules_of(t: CouponTemplate | TemplateIn) -> rules.Rules:
    return rules.Rules(
        kind=t.kind,
        amount_minor=t.amount_minor,
        percent=t.percent,
        cap_minor=t.cap_minor,
        min_spend_minor=t.min_spend_minor,
        scope=t.scope,
        product_ids=frozenset(t.product_ids or ()),
        creator_id=t.creator_id,
        valid_until=t.valid_until,
        valid_days=t.valid_days,
        claim_ends_at=cast(datetime, t.claim_ends_at),
        total=t.total,
        per_person=t.per_person,
        budget_minor=t.budget_minor,
        audience=t.audience,
        live_only=t.live_only,
        task=t.task,
        watch_seconds=t.watch_seconds,
    )


# Templates -----------------------------------------------------------------------------------


def access_template(session: Session, template_id: int) -> CouponTemplate:
    template = session.get(CouponTemplate, template_id)
    if template is None:
        raise NotFound(_("This coupon does not exist."))
    return template


def access_own_template(session: Session, template_id: int, user: User) -> CouponTemplate:
    """A merchant's own templates; platform templates are every admin's."""
    template = session.get(CouponTemplate, template_id)
    mine = template is not None and (
        template.owner_id == user.id or (template.funded_by == rules.PLATFORM and user.is_admin)
    )
    if template is None or not mine:
        raise NotFound(_("This coupon does not exist or is not yours."))
    return template


def _check_actor(session: Session, actor: User, data: TemplateIn) -> int | None:
    """The shop the template discounts: the merchant's own, or any (platform, admins only)."""
    if data.audience == GRANTED and data.funded_by != rules.PLATFORM:
        raise ValidationFailed(
            _("Only platform-funded coupons can be given by the platform."),
            fields={"audience": _("Choose another audience.")},
        )
    if data.funded_by == rules.PLATFORM:
        if not actor.is_admin:
            raise Forbidden(_("Only platform operators can create platform-funded coupons."))
        shop = None
    else:
        if not actor.is_merchant:
            raise Forbidden(_("Turn on merchant mode in your profile to sell products."))
        shop = actor.id
    if data.scope == rules.PRODUCTS:
        found = session.scalars(
            select(Product).where(Product.id.in_(data.product_ids), Product.is_active.is_(True))
        ).all()
        if len(found) != len(set(data.product_ids)) or any(
            shop is not None and p.merchant_id != shop for p in found
        ):
            raise ValidationFailed(
                _("A coupon can only list your own products."),
                fields={"product_ids": _("Not your product.")},
            )
    if data.scope == rules.CREATOR and session.get(User, data.creator_id) is None:
        raise ValidationFailed(
            _("This creator does not exist."), fields={"creator_id": _("Unknown.")}
        )
    return shop


def _write(template: CouponTemplate, data: TemplateIn, now: datetime) -> None:
    values = data.model_dump()
    values["claim_starts_at"] = values["claim_starts_at"] or now
    values["product_ids"] = sorted(set(values["product_ids"]))
    for name, value in values.items():
        setattr(template, name, value)


def do_create_template(
    session: Session, actor: User, data: TemplateIn, now: datetime
) -> CouponTemplate:
    shop = _check_actor(session, actor, data)
    if data.claim_ends_at <= now:
        raise ValidationFailed(
            _("The claim window must end in the future."), fields={"claim_ends_at": _("Past.")}
        )
    template = CouponTemplate(owner_id=actor.id, merchant_id=shop, created_at=now)
    _write(template, data, now)
    session.add(template)
    session.flush()
    return template


def do_update_template(
    session: Session, template: CouponTemplate, actor: User, data: TemplateIn, now: datetime
) -> CouponTemplate:
    """Before anyone claims it a template may change freely; after, only in the buyer's favour
    (the template row is locked so a claim cannot slip in between the check and the change)."""
    if data.funded_by != template.funded_by:
        raise Conflict(_("Who funds a coupon cannot change."), code="funder_fixed")
    _check_actor(session, actor, data)
    session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template.id)
        .values(claimed=CouponTemplate.claimed)
        .execution_options(synchronize_session=False)
    )
    session.refresh(template)
    if template.claimed > 0:
        worse = rules.worse_for_buyer(rules_of(template), rules_of(data))
        if data.total < template.claimed:
            worse.append("total")
        if worse:
            raise Conflict(
                _(
                    "People have already claimed this coupon: its rules can now only change in "
                    "the buyer's favour (refused: %(fields)s).",
                    fields=", ".join(sorted(set(worse))),
                ),
                code="rules_locked",
            )
    _write(template, data, now)
    template.updated_at = now
    session.flush()
    return template


def do_set_state(template: CouponTemplate, paused: bool, now: datetime) -> CouponTemplate:
    template.state = PAUSED if paused else ACTIVE
    template.updated_at = now
    return template


def merchant_templates(session: Session, user: User) -> list[CouponTemplate]:
    where = CouponTemplate.owner_id == user.id
    if user.is_admin:
        where = or_(where, CouponTemplate.funded_by == rules.PLATFORM)
    return list(
        session.scalars(select(CouponTemplate).where(where).order_by(CouponTemplate.id.desc()))
    )


def claimable_templates(
    session: Session, now: datetime, *, merchant_id: int | None, product: Product | None = None
) -> list[CouponTemplate]:
    """What a shop or product page offers to claim now (LIVE-only vouchers are claimed in rooms)."""
    shop = product.merchant_id if product is not None else merchant_id
    rows = session.scalars(
        select(CouponTemplate)
        .where(
            CouponTemplate.state == ACTIVE,
            CouponTemplate.live_only.is_(False),
            CouponTemplate.audience != GRANTED,
            CouponTemplate.claim_starts_at <= now,
            CouponTemplate.claim_ends_at > now,
            CouponTemplate.claimed < CouponTemplate.total,
            or_(CouponTemplate.merchant_id == shop, CouponTemplate.merchant_id.is_(None)),
        )
        .order_by(CouponTemplate.id)
        .limit(50)
    )
    found = []
    for template in rows:
        listed = template.product_ids or []
        if product is not None and template.scope == rules.PRODUCTS and product.id not in listed:
            continue
        found.append(template)
    return found


def held_counts(session: Session, user: User | None, template_ids: list[int]) -> dict[int, int]:
    if user is None or not template_ids:
        return {}
    rows = session.execute(
        select(CouponHolding.template_id, CouponHolding.count).where(
            CouponHolding.user_id == user.id, CouponHolding.template_id.in_(template_ids)
        )
    )
    return {template_id: count for template_id, count in rows}


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
    if _rows(taken) != 1:
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
    return _rows(result)


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

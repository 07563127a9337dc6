"""Coupon templates: create, change in the buyer's favour only, pause; what a buyer may claim.

Claims, grants, my coupons and expiry are in claims.py."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.coupons import rules
from commerce.coupons.models import (
    ACTIVE,
    GRANTED,
    PAUSED,
    CouponHolding,
    CouponTemplate,
)
from commerce.coupons.schemas import TemplateIn
from commerce.errors import Conflict, Forbidden, NotFound, ValidationFailed


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

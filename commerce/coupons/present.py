"""Coupons as the API and pages show them: a headline and the full rules, in the reader's
language."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.coupons import rules
from commerce.coupons.claims import effective_state
from commerce.coupons.models import (
    FOLLOW,
    FOLLOWERS,
    GRANTED,
    NEW_CUSTOMERS,
    WATCH,
    Coupon,
    CouponTemplate,
)
from commerce.coupons.schemas import CouponOut, TemplateOut, TemplateStatsOut
from commerce.money import format_money


def _money(amount: int, t: CouponTemplate) -> str:
    return format_money(amount, t.currency)


def headline(t: CouponTemplate) -> str:
    if t.kind == rules.PERCENT:
        off = _(
            "%(percent)d%% off (up to %(cap)s)", percent=t.percent, cap=_money(t.cap_minor or 0, t)
        )
    else:
        off = _("%(amount)s off", amount=_money(t.amount_minor, t))
    if t.min_spend_minor:
        return _("%(off)s on orders over %(min)s", off=off, min=_money(t.min_spend_minor, t))
    return off


def rules_text(t: CouponTemplate, names: dict[int, str]) -> list[str]:
    """The full rules, generated from the template, shown before anyone claims it."""
    when = format_datetime
    text = [headline(t) + "."]
    if t.scope == rules.PRODUCTS:
        text.append(_("Applies to %(count)d listed products only.", count=len(t.product_ids)))
    elif t.scope == rules.CREATOR:
        name = names.get(t.creator_id or 0, "?")
        text.append(_("Applies to goods bought from %(name)s's videos and lives.", name=name))
    elif t.merchant_id is not None:
        text.append(_("Applies to everything in %(shop)s.", shop=names.get(t.merchant_id, "?")))
    else:
        text.append(_("Applies in every shop on the platform."))
    text.append(
        _(
            "Claim from %(start)s to %(end)s.",
            start=when(t.claim_starts_at),
            end=when(t.claim_ends_at),
        )
    )
    if t.valid_days is not None:
        text.append(_("Valid for %(days)d days after you claim it.", days=t.valid_days))
    else:
        text.append(
            _(
                "Valid from %(start)s until %(end)s.",
                start=when(t.valid_from or t.claim_starts_at),
                end=when(t.valid_until),
            )
        )
    if t.audience == GRANTED:
        text.append(_("%(total)d in total.", total=t.total))
    else:
        text.append(
            _("%(total)d in total, at most %(per)d per person.", total=t.total, per=t.per_person)
        )
    if t.budget_minor is not None:
        text.append(
            _(
                "Ends early once %(budget)s of discounts are spent.",
                budget=_money(t.budget_minor, t),
            )
        )
    if t.audience == FOLLOWERS:
        text.append(_("For followers only."))
    elif t.audience == NEW_CUSTOMERS:
        text.append(_("For new customers only (no paid order here before)."))
    elif t.audience == GRANTED:
        text.append(_("Given by the platform (invite rewards), never claimed."))
    if t.live_only:
        text.append(_("Claimable only in the live room while the host is live."))
    if t.task == WATCH:
        text.append(
            _("Watch the live for %(seconds)d seconds to unlock it.", seconds=t.watch_seconds)
        )
    elif t.task == FOLLOW:
        text.append(_("For people who follow the host for the first time (in the last 30 days)."))
    text.append(
        _(
            "One shop coupon and one platform coupon per order. Cancelled or fully refunded "
            "orders give it back while it is still valid."
        )
    )
    if t.funded_by == rules.PLATFORM:
        text.append(_("Funded by the platform."))
    return text


def names_for(session: Session, templates: list[CouponTemplate]) -> dict[int, str]:
    ids = {i for t in templates for i in (t.merchant_id, t.creator_id) if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _fields(t: CouponTemplate, names: dict[int, str]) -> dict[str, object]:
    return dict(
        id=t.id,
        title=t.title,
        owner_id=t.owner_id,
        merchant_id=t.merchant_id,
        merchant_name=names.get(t.merchant_id, "") if t.merchant_id else _("Platform"),
        funded_by=t.funded_by,
        kind=t.kind,
        amount_minor=t.amount_minor,
        percent=t.percent,
        cap_minor=t.cap_minor,
        min_spend_minor=t.min_spend_minor,
        scope=t.scope,
        product_ids=list(t.product_ids or []),
        creator_id=t.creator_id,
        currency=t.currency,
        claim_starts_at=t.claim_starts_at,
        claim_ends_at=t.claim_ends_at,
        valid_from=t.valid_from,
        valid_until=t.valid_until,
        valid_days=t.valid_days,
        total=t.total,
        claimed=t.claimed,
        remaining=max(t.total - t.claimed, 0),
        per_person=t.per_person,
        budget_minor=t.budget_minor,
        spent_minor=t.spent_minor,
        audience=t.audience,
        live_only=t.live_only,
        task=t.task,
        watch_seconds=t.watch_seconds,
        state=t.state,
        headline=headline(t),
        rules_text=rules_text(t, names),
    )


def template_out(
    session: Session, t: CouponTemplate, held: int = 0, names: dict[int, str] | None = None
) -> TemplateOut:
    names = names if names is not None else names_for(session, [t])
    return TemplateOut(**_fields(t, names), held=held)  # type: ignore[arg-type]


def templates_out(
    session: Session, templates: list[CouponTemplate], held: dict[int, int]
) -> list[TemplateOut]:
    names = names_for(session, templates)
    return [template_out(session, t, held.get(t.id, 0), names) for t in templates]


def stats_out(
    session: Session, templates: list[CouponTemplate], gmv: dict[int, int]
) -> list[TemplateStatsOut]:
    names = names_for(session, templates)
    return [
        TemplateStatsOut(
            **_fields(t, names),  # type: ignore[arg-type]
            redeemed=t.redeemed,
            gmv_minor=gmv.get(t.id, 0),
            cost_display=_money(t.spent_minor, t),
            gmv_display=_money(gmv.get(t.id, 0), t),
        )
        for t in templates
    ]


def coupon_out(
    session: Session, c: Coupon, now: datetime, order_public_id: str | None = None
) -> CouponOut:
    t = c.template
    names = names_for(session, [t])
    return CouponOut(
        id=c.id,
        template_id=t.id,
        title=t.title,
        headline=headline(t),
        state=effective_state(c, now),
        funded_by=t.funded_by,
        merchant_id=t.merchant_id,
        merchant_name=names.get(t.merchant_id, "") if t.merchant_id else _("Platform"),
        claimed_at=c.claimed_at,
        valid_from=c.valid_from,
        expires_at=c.expires_at,
        order_id=order_public_id,
        discount_minor=c.discount_minor,
        rules_text=rules_text(t, names),
    )

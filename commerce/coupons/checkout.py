"""Coupons at checkout: pick the best (or the buyer's choice), split the discount over the lines,
redeem atomically after the order is written, and give coupons back on cancel or full refund.

Orders sit above this area, so an order and its lines come in as duck-typed objects.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from commerce.coupons import rules
from commerce.coupons.models import EXPIRED, USED, VALID, Coupon, CouponTemplate
from commerce.coupons.services import terms_of
from commerce.errors import Conflict


class LineLike(Protocol):
    product_id: int
    amount_minor: int
    creator_id: int | None
    merchant_discount_minor: int
    platform_discount_minor: int


class OrderLike(Protocol):
    id: int
    merchant_id: int
    currency: str
    discount_minor: int

    @property
    def lines(self) -> Sequence[LineLike]: ...


@dataclass
class Redemption:
    """A coupon an order is about to use: taken for real by `redeem` once the order has an id."""

    coupon_id: int
    template_id: int
    discount_minor: int
    order: Any


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def usable(session: Session, buyer_id: int, now: datetime) -> list[tuple[Coupon, CouponTemplate]]:
    """The buyer's coupons valid now, with their templates."""
    rows = session.execute(
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(
            Coupon.user_id == buyer_id,
            Coupon.state == VALID,
            Coupon.valid_from <= now,
            Coupon.expires_at > now,
        )
        .order_by(Coupon.expires_at, Coupon.id)
        .limit(200)
    )
    return [(coupon, template) for coupon, template in rows]


def candidate(coupon: Coupon, template: CouponTemplate) -> rules.Candidate:
    budget_left = (
        template.budget_minor - template.spent_minor if template.budget_minor is not None else None
    )
    return rules.Candidate(coupon.id, terms_of(template), budget_left, coupon.expires_at)


def pick(
    held: Sequence[rules.Candidate],
    chosen: list[int] | None,
    merchant_id: int,
    currency: str,
    lines: Sequence[rules.Line],
) -> list[rules.Applied]:
    """The best pair, or only the coupons the buyer chose ([] = none)."""
    if chosen is not None:
        held = [c for c in held if c.coupon_id in chosen]
    return rules.choose(held, merchant_id, currency, lines)


def check_choice(session: Session, buyer_id: int, chosen: list[int], now: datetime) -> None:
    """Coupons the buyer names must be theirs and valid now, at most one per funder."""
    held = {coupon.id: template for coupon, template in usable(session, buyer_id, now)}
    if any(coupon_id not in held for coupon_id in chosen):
        raise Conflict(_("This coupon is not yours, already used or expired."), code="coupon")
    funders = [held[coupon_id].funded_by for coupon_id in chosen]
    if len(set(funders)) != len(funders):
        raise Conflict(
            _("Use at most one shop coupon and one platform coupon per order."), code="stacking"
        )


def apply_coupons(
    session: Session,
    order: OrderLike,
    buyer_id: int,
    now: datetime,
    chosen: list[int] | None,
    taken: list[Redemption],
) -> list[Redemption]:
    """Discount the order's lines with the best coupons (or the chosen ones) not taken by an
    earlier order of the same checkout; returns `taken` with this order's redemptions added."""
    if chosen is not None and not taken:
        check_choice(session, buyer_id, chosen, now)
    used = {r.coupon_id for r in taken}
    rows = [(c, t) for c, t in usable(session, buyer_id, now) if c.id not in used]
    held = [candidate(c, t) for c, t in rows]
    template_of = {c.id: t.id for c, t in rows}
    lines = [rules.Line(li.product_id, li.amount_minor, li.creator_id) for li in order.lines]
    applied = pick(held, chosen, order.merchant_id, order.currency, lines)
    merchant, platform = rules.line_discounts(applied, len(lines))
    for line, m, p in zip(order.lines, merchant, platform, strict=True):
        line.merchant_discount_minor, line.platform_discount_minor = m, p
        line.amount_minor -= m + p
    order.discount_minor = sum(merchant) + sum(platform)
    for a in applied:
        taken.append(Redemption(a.coupon_id, template_of[a.coupon_id], a.discount_minor, order))
    return taken


def redeem(
    session: Session, taken: Sequence[Redemption], now: datetime, chosen: list[int] | None = None
) -> None:
    """Take each coupon for its order: one conditional UPDATE on the coupon (one order only,
    whatever races), one on the template's budget. A refusal undoes the whole checkout, as does
    a chosen coupon that applies to none of its orders."""
    if chosen and set(chosen) - {r.coupon_id for r in taken}:
        raise Conflict(
            _("This coupon does not apply to this order (its shop, products or minimum)."),
            code="coupon_not_applicable",
        )
    for r in taken:
        result = session.execute(
            update(Coupon)
            .where(Coupon.id == r.coupon_id, Coupon.state == VALID, Coupon.expires_at > now)
            .values(state=USED, order_id=r.order.id, used_at=now, discount_minor=r.discount_minor)
            .execution_options(synchronize_session=False)
        )
        if _rows(result) != 1:
            raise Conflict(
                _("This coupon has just been used by another order or has expired."),
                code="coupon_taken",
            )
        spent = session.execute(
            update(CouponTemplate)
            .where(
                CouponTemplate.id == r.template_id,
                (CouponTemplate.budget_minor.is_(None))
                | (CouponTemplate.spent_minor + r.discount_minor <= CouponTemplate.budget_minor),
            )
            .values(
                spent_minor=CouponTemplate.spent_minor + r.discount_minor,
                redeemed=CouponTemplate.redeemed + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if _rows(spent) != 1:
            raise Conflict(_("This coupon's budget has been spent."), code="budget_spent")


def release_for_order(session: Session, order_id: int, now: datetime) -> int:
    """Give back the coupons of a cancelled or fully refunded order: valid again if still within
    their validity, else expired. Each runs once (conditional on it still being used here)."""
    coupons = list(
        session.scalars(select(Coupon).where(Coupon.order_id == order_id, Coupon.state == USED))
    )
    released = 0
    for coupon in coupons:
        result = session.execute(
            update(Coupon)
            .where(Coupon.id == coupon.id, Coupon.state == USED, Coupon.order_id == order_id)
            .values(
                state=VALID if coupon.expires_at > now else EXPIRED,
                order_id=None,
                used_at=None,
                discount_minor=0,
            )
            .execution_options(synchronize_session=False)
        )
        if _rows(result) != 1:
            continue
        released += 1
        session.execute(
            update(CouponTemplate)
            .where(
                CouponTemplate.id == coupon.template_id,
                CouponTemplate.spent_minor >= coupon.discount_minor,
                CouponTemplate.redeemed >= 1,
            )
            .values(
                spent_minor=CouponTemplate.spent_minor - coupon.discount_minor,
                redeemed=CouponTemplate.redeemed - 1,
            )
            .execution_options(synchronize_session=False)
        )
    return released


def coupons_of_order(session: Session, order_id: int) -> list[Coupon]:
    """The coupons an order used (for its credit explanation)."""
    return list(session.scalars(select(Coupon).where(Coupon.order_id == order_id)))


@dataclass
class Quote:
    """What the checkout drawer shows: the coupons that would apply, and every coupon held with
    what it would take off on its own (0: it does not apply here)."""

    applied: list[rules.Applied]
    options: list[tuple[Coupon, CouponTemplate, int]]


def quote(
    session: Session,
    buyer_id: int,
    merchant_id: int,
    currency: str,
    lines: Sequence[rules.Line],
    chosen: list[int] | None,
    now: datetime,
    taken: Collection[int] = (),
) -> Quote:
    """`taken`: coupons an earlier order of the same checkout uses (as apply_coupons skips)."""
    rows = [(c, t) for c, t in usable(session, buyer_id, now) if c.id not in taken]
    held = [candidate(c, t) for c, t in rows]
    applied = pick(held, chosen, merchant_id, currency, lines)
    options = []
    for (coupon, template), one in zip(rows, held, strict=True):
        alone = rules.evaluate(one, merchant_id, currency, lines)
        options.append((coupon, template, alone.discount_minor if alone else 0))
    return Quote(applied, options)

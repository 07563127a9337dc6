"""Aggregate SQL for the promotion dashboards: GROUP BY template or campaign, and by day.
Coupons here, group buying in group_queries.py; the scope (whose figures) is shared.

Nothing here loops over rows in Python: each figure is one grouped query whatever the number of
coupons, orders or groups. Redemptions, cost and GMV count paid orders only, net of refunds (a
failed group's refunded members and a fully refunded coupon order drop out by themselves).
A creator's scope keeps only orders bought from her videos and lives (`order_lines.creator_id`)
and claims made in her rooms or of coupons made for her content.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from commerce.coupons.models import USED, Coupon, CouponTemplate, LiveVoucher
from commerce.coupons.rules import MERCHANT, PLATFORM
from commerce.live.models import LiveRoom
from commerce.orders.models import Order, OrderLine
from commerce.promostats.rules import as_day, rate_bp, series, window_start

Series = list[tuple[date, int]]
LIST_LIMIT = 100  # templates or campaigns on one page, newest first


@dataclass(frozen=True)
class Scope:
    """Whose figures: a seller's own promotions (every order), or a creator's content."""

    creator_id: int | None = None


def creator_orders(creator_id: int) -> Select[Any]:
    return select(OrderLine.order_id).where(OrderLine.creator_id == creator_id)


def _creator_rooms(creator_id: int) -> Select[Any]:
    return select(LiveRoom.id).where(LiveRoom.creator_id == creator_id)


def order_filter(scope: Scope) -> ColumnElement[bool]:
    if scope.creator_id is None:
        return true()
    return Order.id.in_(creator_orders(scope.creator_id))


def _claim_filter(scope: Scope) -> ColumnElement[bool]:
    """A creator counts claims made in her rooms, and every claim of a coupon for her content."""
    if scope.creator_id is None:
        return true()
    return or_(
        Coupon.room_id.in_(_creator_rooms(scope.creator_id)),
        CouponTemplate.creator_id == scope.creator_id,
    )


# ---------------------------------------------------------------- coupons


@dataclass
class CouponFigures:
    claims: int = 0
    redemptions: int = 0
    cost_minor: int = 0  # the discounts given on paid orders
    gmv_minor: int = 0  # what those orders paid, net of refunds

    @property
    def rate_bp(self) -> int | None:
        return rate_bp(self.redemptions, self.claims)


@dataclass
class MoneyDays:
    merchant_cost: Series
    platform_cost: Series
    gmv: Series


@dataclass
class CouponDays:
    claims: Series
    redemptions: Series
    money: dict[str, MoneyDays] = field(default_factory=dict)  # by currency

    @property
    def rate_bp(self) -> int | None:
        return rate_bp(series_total(self.redemptions), series_total(self.claims))


def series_total(points: Series) -> int:
    return sum(v for _, v in points)


def creator_template_ids(session: Session, creator_id: int) -> list[int]:
    """Coupons on a creator's content: made for it, pinned in her rooms, or used on her orders."""
    made = select(CouponTemplate.id).where(CouponTemplate.creator_id == creator_id)
    pinned = select(LiveVoucher.template_id).where(
        LiveVoucher.room_id.in_(_creator_rooms(creator_id))
    )
    used = select(Coupon.template_id).where(Coupon.order_id.in_(creator_orders(creator_id)))
    claimed = select(Coupon.template_id).where(Coupon.room_id.in_(_creator_rooms(creator_id)))
    ids = made.union(pinned, used, claimed).subquery()
    return list(
        session.scalars(
            select(CouponTemplate.id)
            .where(CouponTemplate.id.in_(select(ids.c[0])))
            .order_by(CouponTemplate.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def coupon_figures(
    session: Session, template_ids: list[int], scope: Scope = Scope()
) -> dict[int, CouponFigures]:
    """{template id: its figures}, all time."""
    out = {tid: CouponFigures() for tid in template_ids}
    if not template_ids:
        return out
    claims = (
        select(Coupon.template_id, func.count())
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.template_id.in_(template_ids), _claim_filter(scope))
        .group_by(Coupon.template_id)
    )
    for template_id, count in session.execute(claims):
        out[template_id].claims = int(count)
    used = (
        select(
            Coupon.template_id,
            func.count(),
            func.sum(Coupon.discount_minor),
            func.sum(Order.total_minor - Order.refunded_minor),
        )
        .join(Order, Order.id == Coupon.order_id)
        .where(
            Coupon.template_id.in_(template_ids),
            Coupon.state == USED,
            Order.paid_at.is_not(None),
            order_filter(scope),
        )
        .group_by(Coupon.template_id)
    )
    for template_id, count, cost, gmv in session.execute(used):
        figures = out[template_id]
        figures.redemptions, figures.cost_minor, figures.gmv_minor = (
            int(count),
            int(cost or 0),
            int(gmv or 0),
        )
    return out


def coupon_days(
    session: Session, template_ids: list[int], now: datetime, scope: Scope = Scope()
) -> CouponDays:
    """The last 30 days: claims (by claim day); redemptions, cost by funder and GMV (by the
    day the order was paid). An order that used two of these coupons counts once in GMV."""
    since = window_start(now)
    today = now.date()
    if not template_ids:
        return CouponDays(series({}, today), series({}, today))
    claim_day = func.date(Coupon.claimed_at)
    claims: Counter[date] = Counter()
    for day, count in session.execute(
        select(claim_day, func.count())
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(
            Coupon.template_id.in_(template_ids),
            Coupon.claimed_at >= since,
            _claim_filter(scope),
        )
        .group_by(claim_day)
    ):
        claims[as_day(day)] += int(count)
    paid_day = func.date(Order.paid_at)
    redemptions: Counter[date] = Counter()
    cost: dict[tuple[str, str], Counter[date]] = defaultdict(Counter)
    for day, funder, currency, count, amount in session.execute(
        select(
            paid_day,
            CouponTemplate.funded_by,
            CouponTemplate.currency,
            func.count(),
            func.sum(Coupon.discount_minor),
        )
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .join(Order, Order.id == Coupon.order_id)
        .where(
            Coupon.template_id.in_(template_ids),
            Coupon.state == USED,
            Order.paid_at >= since,
            order_filter(scope),
        )
        .group_by(paid_day, CouponTemplate.funded_by, CouponTemplate.currency)
    ):
        redemptions[as_day(day)] += int(count)
        cost[(currency, funder)][as_day(day)] += int(amount or 0)
    gmv: dict[str, Counter[date]] = defaultdict(Counter)
    orders_used = select(Coupon.order_id).where(
        Coupon.template_id.in_(template_ids), Coupon.state == USED
    )
    for day, currency, amount in session.execute(
        select(paid_day, Order.currency, func.sum(Order.total_minor - Order.refunded_minor))
        .where(Order.id.in_(orders_used), Order.paid_at >= since, order_filter(scope))
        .group_by(paid_day, Order.currency)
    ):
        gmv[currency][as_day(day)] += int(amount or 0)
    currencies = sorted({c for c, _ in cost} | set(gmv))
    return CouponDays(
        series(claims, today),
        series(redemptions, today),
        {
            c: MoneyDays(
                series(cost[(c, MERCHANT)], today),
                series(cost[(c, PLATFORM)], today),
                series(gmv[c], today),
            )
            for c in currencies
        },
    )

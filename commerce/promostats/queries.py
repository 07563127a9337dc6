"""Aggregate SQL for the promotion dashboards: GROUP BY template or campaign, and by day.

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

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from commerce.catalog.models import Product
from commerce.coupons.models import USED, Coupon, CouponTemplate, LiveVoucher
from commerce.coupons.rules import MERCHANT, PLATFORM
from commerce.groupbuy import rules as group_rules
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.live.models import LiveRoom
from commerce.orders.models import Order, OrderLine
from commerce.promostats.rules import as_day, rate_bp, series, window_start

Series = list[tuple[date, int]]
LIST_LIMIT = 100  # templates or campaigns on one page, newest first


@dataclass(frozen=True)
class Scope:
    """Whose figures: a seller's own promotions (every order), or a creator's content."""

    creator_id: int | None = None


def _creator_orders(creator_id: int) -> Select[Any]:
    return select(OrderLine.order_id).where(OrderLine.creator_id == creator_id)


def _creator_rooms(creator_id: int) -> Select[Any]:
    return select(LiveRoom.id).where(LiveRoom.creator_id == creator_id)


def _order_filter(scope: Scope) -> ColumnElement[bool]:
    if scope.creator_id is None:
        return true()
    return Order.id.in_(_creator_orders(scope.creator_id))


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
        return rate_bp(_total(self.redemptions), _total(self.claims))


def _total(points: Series) -> int:
    return sum(v for _, v in points)


def creator_template_ids(session: Session, creator_id: int) -> list[int]:
    """Coupons on a creator's content: made for it, pinned in her rooms, or used on her orders."""
    made = select(CouponTemplate.id).where(CouponTemplate.creator_id == creator_id)
    pinned = select(LiveVoucher.template_id).where(
        LiveVoucher.room_id.in_(_creator_rooms(creator_id))
    )
    used = select(Coupon.template_id).where(Coupon.order_id.in_(_creator_orders(creator_id)))
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
            _order_filter(scope),
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
            _order_filter(scope),
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
        .where(Order.id.in_(orders_used), Order.paid_at >= since, _order_filter(scope))
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


# ---------------------------------------------------------------- group buying


@dataclass
class GroupFigures:
    opened: int = 0  # the leader paid: open, succeeded or failed
    open: int = 0
    succeeded: int = 0
    failed: int = 0  # expired unfilled, every member refunded
    gmv_minor: int = 0  # paid seats' orders, net of refunds (a rebate refunds the leader's)
    rebates: int = 0  # 团长免单 paid
    rebate_minor: int = 0

    @property
    def fill_rate_bp(self) -> int | None:
        """Of the groups decided (filled or failed), the share that filled."""
        return rate_bp(self.succeeded, self.succeeded + self.failed)


@dataclass
class GroupDays:
    opened: Series
    succeeded: Series
    failed: Series
    gmv: dict[str, Series] = field(default_factory=dict)  # by currency
    rebates: dict[str, Series] = field(default_factory=dict)

    @property
    def fill_rate_bp(self) -> int | None:
        won = _total(self.succeeded)
        return rate_bp(won, won + _total(self.failed))


OPENED_STATES = (group_rules.OPEN, group_rules.SUCCEEDED, group_rules.FAILED)


def _group_filter(scope: Scope) -> ColumnElement[bool]:
    """A creator's groups: those whose leader bought from her content."""
    if scope.creator_id is None:
        return true()
    return Group.id.in_(
        select(GroupSeat.group_id).where(
            GroupSeat.role == group_rules.LEADER,
            GroupSeat.order_id.in_(_creator_orders(scope.creator_id)),
        )
    )


def creator_campaign_ids(session: Session, creator_id: int) -> list[int]:
    """Group campaigns with a seat bought from a creator's videos or lives."""
    return list(
        session.scalars(
            select(GroupSeat.campaign_id)
            .where(GroupSeat.order_id.in_(_creator_orders(creator_id)))
            .group_by(GroupSeat.campaign_id)
            .order_by(GroupSeat.campaign_id.desc())
            .limit(LIST_LIMIT)
        )
    )


def merchant_campaigns(session: Session, merchant_id: int) -> list[GroupCampaign]:
    return list(
        session.scalars(
            select(GroupCampaign)
            .options(selectinload(GroupCampaign.product))
            .where(GroupCampaign.merchant_id == merchant_id)
            .order_by(GroupCampaign.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def group_figures(
    session: Session, campaign_ids: list[int], scope: Scope = Scope()
) -> dict[int, GroupFigures]:
    """{campaign id: its figures}, all time."""
    out = {cid: GroupFigures() for cid in campaign_ids}
    if not campaign_ids:
        return out
    paid_rebate = Group.rebate_state == "paid"
    for campaign_id, state, count, rebates, rebate_minor in session.execute(
        select(
            Group.campaign_id,
            Group.state,
            func.count(),
            func.sum(case((paid_rebate, 1), else_=0)),
            func.sum(case((paid_rebate, Group.rebate_minor), else_=0)),
        )
        .where(
            Group.campaign_id.in_(campaign_ids),
            Group.state.in_(OPENED_STATES),
            _group_filter(scope),
        )
        .group_by(Group.campaign_id, Group.state)
    ):
        figures = out[campaign_id]
        figures.opened += int(count)
        setattr(figures, state, int(count))
        figures.rebates += int(rebates or 0)
        figures.rebate_minor += int(rebate_minor or 0)
    for campaign_id, gmv in session.execute(
        select(GroupSeat.campaign_id, func.sum(Order.total_minor - Order.refunded_minor))
        .join(Order, Order.id == GroupSeat.order_id)
        .where(
            GroupSeat.campaign_id.in_(campaign_ids),
            GroupSeat.state == group_rules.PAID,
            _order_filter(scope),
        )
        .group_by(GroupSeat.campaign_id)
    ):
        out[campaign_id].gmv_minor = int(gmv or 0)
    return out


def group_days(
    session: Session, campaign_ids: list[int], now: datetime, scope: Scope = Scope()
) -> GroupDays:
    """The last 30 days: groups opened (the leader's payment), succeeded and failed (the day
    they closed), GMV (the day each seat was paid) and rebates (the day each was paid)."""
    since = window_start(now)
    today = now.date()
    if not campaign_ids:
        return GroupDays(series({}, today), series({}, today), series({}, today))
    in_campaigns = Group.campaign_id.in_(campaign_ids)
    opened_day = func.date(Group.opened_at)
    opened: Counter[date] = Counter()
    for day, count in session.execute(
        select(opened_day, func.count())
        .where(in_campaigns, Group.opened_at >= since, _group_filter(scope))
        .group_by(opened_day)
    ):
        opened[as_day(day)] += int(count)
    closed_day = func.date(Group.closed_at)
    closed: dict[str, Counter[date]] = defaultdict(Counter)
    for day, state, count in session.execute(
        select(closed_day, Group.state, func.count())
        .where(
            in_campaigns,
            Group.state.in_((group_rules.SUCCEEDED, group_rules.FAILED)),
            Group.closed_at >= since,
            _group_filter(scope),
        )
        .group_by(closed_day, Group.state)
    ):
        closed[state][as_day(day)] += int(count)
    paid_day = func.date(GroupSeat.paid_at)
    gmv: dict[str, Counter[date]] = defaultdict(Counter)
    for day, currency, amount in session.execute(
        select(paid_day, Order.currency, func.sum(Order.total_minor - Order.refunded_minor))
        .join(Order, Order.id == GroupSeat.order_id)
        .where(
            GroupSeat.campaign_id.in_(campaign_ids),
            GroupSeat.state == group_rules.PAID,
            GroupSeat.paid_at >= since,
            _order_filter(scope),
        )
        .group_by(paid_day, Order.currency)
    ):
        gmv[currency][as_day(day)] += int(amount or 0)
    rebate_day = func.date(Group.rebated_at)
    rebates: dict[str, Counter[date]] = defaultdict(Counter)
    for day, currency, amount in session.execute(
        select(rebate_day, Product.currency, func.sum(Group.rebate_minor))
        .join(GroupCampaign, GroupCampaign.id == Group.campaign_id)
        .join(Product, Product.id == GroupCampaign.product_id)
        .where(
            in_campaigns,
            Group.rebate_state == "paid",
            Group.rebated_at >= since,
            _group_filter(scope),
        )
        .group_by(rebate_day, Product.currency)
    ):
        rebates[currency][as_day(day)] += int(amount or 0)
    currencies = sorted(set(gmv) | set(rebates))
    return GroupDays(
        series(opened, today),
        series(closed[group_rules.SUCCEEDED], today),
        series(closed[group_rules.FAILED], today),
        {c: series(gmv[c], today) for c in currencies},
        {c: series(rebates[c], today) for c in currencies},
    )

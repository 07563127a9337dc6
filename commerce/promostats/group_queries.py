"""Aggregate SQL for the group-buying dashboards: GROUP BY campaign, and by day (see queries.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.groupbuy import rules as group_rules
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.orders.models import Order
from commerce.promostats.queries import (
    LIST_LIMIT,
    Scope,
    Series,
    creator_orders,
    order_filter,
    series_total,
)
from commerce.promostats.rules import as_day, rate_bp, series, window_start


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
        won = series_total(self.succeeded)
        return rate_bp(won, won + series_total(self.failed))


OPENED_STATES = (group_rules.OPEN, group_rules.SUCCEEDED, group_rules.FAILED)


def _group_filter(scope: Scope) -> ColumnElement[bool]:
    """A creator's groups: those whose leader bought from her content."""
    if scope.creator_id is None:
        return true()
    return Group.id.in_(
        select(GroupSeat.group_id).where(
            GroupSeat.role == group_rules.LEADER,
            GroupSeat.order_id.in_(creator_orders(scope.creator_id)),
        )
    )


def creator_campaign_ids(session: Session, creator_id: int) -> list[int]:
    """Group campaigns with a seat bought from a creator's videos or lives."""
    return list(
        session.scalars(
            select(GroupSeat.campaign_id)
            .where(GroupSeat.order_id.in_(creator_orders(creator_id)))
            .group_by(GroupSeat.campaign_id)
            .order_by(GroupSeat.campaign_id.desc())
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
            order_filter(scope),
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
            order_filter(scope),
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

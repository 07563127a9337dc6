"""The dashboards' panels as templates show them: headline figures, SVG plots, table rows, in
the reader's language; and the same figures as the API returns them. Money is shown per
currency (a panel rarely has more than one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from commerce.attribution.charts import bar_chart, stacked_bar_chart
from commerce.coupons.models import CouponTemplate
from commerce.coupons.present import headline
from commerce.coupons.rules import PLATFORM
from commerce.groupbuy.models import GroupCampaign
from commerce.money import format_money
from commerce.promostats import group_queries, queries
from commerce.promostats.queries import Scope
from commerce.promostats.rules import percent_text
from commerce.promostats.schemas import (
    CampaignFiguresOut,
    CouponDayOut,
    CouponFiguresOut,
    CouponMoneyDayOut,
    CouponMoneyOut,
    CouponTotalsOut,
    CouponWindowOut,
    GroupDayOut,
    GroupMoneyDayOut,
    GroupMoneyOut,
    GroupTotalsOut,
    GroupWindowOut,
)
from commerce.promostats.services import CampaignReport, CouponReport


@dataclass
class Plot:
    title: str
    svg: Markup
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)


@dataclass
class Panel:
    stats: list[tuple[str, str]]  # (label, value), the last 30 days
    plots: list[Plot]
    rows: list[dict[str, Any]]


def _sum(points: Sequence[tuple[date, int]]) -> int:
    return sum(v for _, v in points)


def _money_of(currency: str) -> Callable[[int], str]:
    return lambda v: format_money(v, currency)


def _cost_legend() -> list[tuple[str, str]]:
    return [("layer-0", _("Shop-funded")), ("layer-1", _("Platform-funded"))]


def coupon_panel(
    session: Session,
    templates: list[CouponTemplate],
    now: datetime,
    scope: Scope = Scope(),
    *,
    link: Callable[[CouponTemplate], str] | None = None,
) -> Panel:
    ids = [t.id for t in templates]
    days = queries.coupon_days(session, ids, now, scope)
    stats = [
        (_("Claims"), str(_sum(days.claims))),
        (_("Redemptions"), str(_sum(days.redemptions))),
        (_("Redemption rate"), percent_text(days.rate_bp)),
    ]
    plots = [
        Plot(_("Claims per day"), bar_chart(days.claims, label=_("Claims per day"))),
        Plot(
            _("Redemptions per day"),
            bar_chart(days.redemptions, label=_("Redemptions per day")),
        ),
    ]
    for currency, money in days.money.items():
        show = _money_of(currency)
        stats += [
            (_("Shop-funded cost"), show(_sum(money.merchant_cost))),
            (_("Platform-funded cost"), show(_sum(money.platform_cost))),
            (_("GMV"), show(_sum(money.gmv))),
        ]
        plots += [
            Plot(
                _("Discount cost per day (%(currency)s)", currency=currency),
                stacked_bar_chart(
                    [
                        (_("Shop-funded"), money.merchant_cost),
                        (_("Platform-funded"), money.platform_cost),
                    ],
                    label=_("Discount cost per day"),
                    value_text=show,
                ),
                _cost_legend(),
            ),
            Plot(
                _("GMV of orders that used a coupon (%(currency)s)", currency=currency),
                bar_chart(money.gmv, label=_("GMV per day"), value_text=show),
            ),
        ]
    figures = queries.coupon_figures(session, ids, scope)
    rows = []
    for t in templates:
        f = figures[t.id]
        rows.append(
            {
                "id": t.id,
                "title": t.title,
                "headline": headline(t),
                "funder": _("Platform") if t.funded_by == PLATFORM else _("Shop"),
                "claims": f.claims,
                "redemptions": f.redemptions,
                "rate": percent_text(f.rate_bp),
                "cost": format_money(f.cost_minor, t.currency),
                "gmv": format_money(f.gmv_minor, t.currency),
                "link": link(t) if link else None,
            }
        )
    return Panel(stats, plots, rows)


def group_panel(
    session: Session,
    campaigns: list[GroupCampaign],
    now: datetime,
    scope: Scope = Scope(),
    *,
    link: Callable[[GroupCampaign], str] | None = None,
) -> Panel:
    ids = [c.id for c in campaigns]
    days = group_queries.group_days(session, ids, now, scope)
    stats = [
        (_("Groups opened"), str(_sum(days.opened))),
        (_("Succeeded"), str(_sum(days.succeeded))),
        (_("Failed (refunded)"), str(_sum(days.failed))),
        (_("Fill rate"), percent_text(days.fill_rate_bp)),
    ]
    plots = [
        Plot(_("Groups opened per day"), bar_chart(days.opened, label=_("Groups opened per day"))),
        Plot(
            _("Groups closed per day"),
            stacked_bar_chart(
                [(_("Succeeded"), days.succeeded), (_("Failed (refunded)"), days.failed)],
                label=_("Groups closed per day"),
            ),
            [("layer-0", _("Succeeded")), ("layer-1", _("Failed (refunded)"))],
        ),
    ]
    for currency, gmv in days.gmv.items():
        show = _money_of(currency)
        rebates = days.rebates[currency]
        stats += [(_("GMV"), show(_sum(gmv))), (_("Leader-free rebates"), show(_sum(rebates)))]
        plots += [
            Plot(
                _("Group GMV per day (%(currency)s)", currency=currency),
                bar_chart(gmv, label=_("GMV per day"), value_text=show),
            ),
            Plot(
                _("Leader-free rebates per day (%(currency)s)", currency=currency),
                bar_chart(rebates, label=_("Leader-free rebates per day"), value_text=show),
            ),
        ]
    figures = group_queries.group_figures(session, ids, scope)
    rows = []
    for c in campaigns:
        f = figures[c.id]
        currency = c.product.currency
        rows.append(
            {
                "id": c.id,
                "title": c.product.title,
                "terms": _(
                    "%(price)s · groups of %(size)d",
                    price=format_money(c.price_minor, currency),
                    size=c.group_size,
                ),
                "active": c.active,
                "opened": f.opened,
                "open": f.open,
                "succeeded": f.succeeded,
                "failed": f.failed,
                "fill_rate": percent_text(f.fill_rate_bp),
                "gmv": format_money(f.gmv_minor, currency),
                "rebates": f.rebates,
                "rebate": format_money(f.rebate_minor, currency),
                "link": link(c) if link else None,
            }
        )
    return Panel(stats, plots, rows)


def creator_panels(session: Session, creator_id: int, now: datetime) -> tuple[Panel, Panel]:
    """The creator's coupon and group panels: every promotion her content sold through, counting
    only the orders bought from her videos and lives."""
    scope = Scope(creator_id=creator_id)
    templates = templates_by_ids(session, queries.creator_template_ids(session, creator_id))
    campaigns = campaigns_by_ids(session, group_queries.creator_campaign_ids(session, creator_id))
    return (
        coupon_panel(session, templates, now, scope),
        group_panel(session, campaigns, now, scope),
    )


def templates_by_ids(session: Session, ids: list[int]) -> list[CouponTemplate]:
    if not ids:
        return []
    rows = session.scalars(select(CouponTemplate).where(CouponTemplate.id.in_(ids)))
    return sorted(rows, key=lambda t: -t.id)


def campaigns_by_ids(session: Session, ids: list[int]) -> list[GroupCampaign]:
    if not ids:
        return []
    rows = session.scalars(
        select(GroupCampaign)
        .options(selectinload(GroupCampaign.product))
        .where(GroupCampaign.id.in_(ids))
    )
    return sorted(rows, key=lambda c: -c.id)


# The API's shape of the same figures ------------------------------------------------------------


def coupon_figures_out(report: CouponReport) -> CouponFiguresOut:
    template, totals, days = report.template, report.totals, report.days
    dates = [d for d, _ in days.claims]
    money = [
        CouponMoneyOut(
            currency=currency,
            merchant_cost_minor=_sum(m.merchant_cost),
            platform_cost_minor=_sum(m.platform_cost),
            gmv_minor=_sum(m.gmv),
            days=[
                CouponMoneyDayOut(
                    date=d, merchant_cost_minor=merchant, platform_cost_minor=platform, gmv_minor=g
                )
                for (d, merchant), (_, platform), (_, g) in zip(
                    m.merchant_cost, m.platform_cost, m.gmv, strict=True
                )
            ],
        )
        for currency, m in days.money.items()
    ]
    return CouponFiguresOut(
        template_id=template.id,
        title=template.title,
        totals=CouponTotalsOut(
            claims=totals.claims,
            redemptions=totals.redemptions,
            redemption_rate_bp=totals.rate_bp,
            cost_minor=totals.cost_minor,
            gmv_minor=totals.gmv_minor,
            currency=template.currency,
        ),
        last_30_days=CouponWindowOut(
            since=dates[0],
            until=dates[-1],
            claims=_sum(days.claims),
            redemptions=_sum(days.redemptions),
            redemption_rate_bp=days.rate_bp,
            days=[
                CouponDayOut(date=d, claims=c, redemptions=r)
                for (d, c), (_, r) in zip(days.claims, days.redemptions, strict=True)
            ],
            money=money,
        ),
    )


def campaign_figures_out(report: CampaignReport) -> CampaignFiguresOut:
    campaign, totals, days = report.campaign, report.totals, report.days
    dates = [d for d, _ in days.opened]
    money = [
        GroupMoneyOut(
            currency=currency,
            gmv_minor=_sum(gmv),
            rebate_minor=_sum(days.rebates[currency]),
            days=[
                GroupMoneyDayOut(date=d, gmv_minor=g, rebate_minor=r)
                for (d, g), (_, r) in zip(gmv, days.rebates[currency], strict=True)
            ],
        )
        for currency, gmv in days.gmv.items()
    ]
    return CampaignFiguresOut(
        campaign_id=campaign.id,
        product_id=campaign.product_id,
        title=campaign.product.title,
        totals=GroupTotalsOut(
            opened=totals.opened,
            open=totals.open,
            succeeded=totals.succeeded,
            failed=totals.failed,
            fill_rate_bp=totals.fill_rate_bp,
            gmv_minor=totals.gmv_minor,
            rebates=totals.rebates,
            rebate_minor=totals.rebate_minor,
            currency=campaign.product.currency,
        ),
        last_30_days=GroupWindowOut(
            since=dates[0],
            until=dates[-1],
            opened=_sum(days.opened),
            succeeded=_sum(days.succeeded),
            failed=_sum(days.failed),
            fill_rate_bp=days.fill_rate_bp,
            days=[
                GroupDayOut(date=d, opened=o, succeeded=s, failed=f)
                for (d, o), (_, s), (_, f) in zip(
                    days.opened, days.succeeded, days.failed, strict=True
                )
            ],
            money=money,
        ),
    )

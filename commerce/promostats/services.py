"""Dashboard use cases for the API: one coupon's or one campaign's figures, for its owner only,
from the same queries the pages draw (queries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.coupons import services as coupon_services
from commerce.coupons.models import CouponTemplate
from commerce.groupbuy import services as group_services
from commerce.groupbuy.models import GroupCampaign
from commerce.promostats import group_queries, queries


@dataclass
class CouponReport:
    template: CouponTemplate
    totals: queries.CouponFigures
    days: queries.CouponDays


@dataclass
class CampaignReport:
    campaign: GroupCampaign
    totals: group_queries.GroupFigures
    days: group_queries.GroupDays


def access_coupon_report(
    session: Session, template_id: int, user: User, now: datetime
) -> CouponReport:
    """The merchant's own template, or a platform one for operators; anyone else: not found."""
    template = coupon_services.access_own_template(session, template_id, user)
    ids = [template.id]
    return CouponReport(
        template,
        queries.coupon_figures(session, ids)[template.id],
        queries.coupon_days(session, ids, now),
    )


def access_campaign_report(
    session: Session, campaign_id: int, user: User, now: datetime
) -> CampaignReport:
    """The merchant's own campaign; anyone else: not found."""
    campaign = group_services.access_campaign_for_merchant(session, campaign_id, user)
    ids = [campaign.id]
    return CampaignReport(
        campaign,
        group_queries.group_figures(session, ids)[campaign.id],
        group_queries.group_days(session, ids, now),
    )

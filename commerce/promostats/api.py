"""Dashboard figures as JSON: one coupon template's or one group campaign's totals and daily
series, beside the coupons' and group campaigns' own endpoints (same URL style), for the same
people as the pages."""

from __future__ import annotations

from flask import Blueprint

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.promostats import services
from commerce.promostats.present import campaign_figures_out, coupon_figures_out
from commerce.promostats.schemas import CampaignFiguresOut, CouponFiguresOut
from commerce.timeutil import utcnow

bp = Blueprint("promostats_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/coupons/templates/<int:template_id>/figures",
    summary="A coupon's figures: all time, and per day of the last 30 days (its owner only)",
    response=CouponFiguresOut,
    errors=(404,),
)
def coupon_figures(template_id: int) -> CouponFiguresOut:
    report = services.access_coupon_report(db.session, template_id, require_user(), utcnow())
    return coupon_figures_out(report)


@endpoint(
    bp,
    "/group-campaigns/<int:campaign_id>/figures",
    summary="A campaign's figures: all time, and per day of the last 30 days (its merchant only)",
    response=CampaignFiguresOut,
    errors=(404,),
)
def campaign_figures(campaign_id: int) -> CampaignFiguresOut:
    report = services.access_campaign_report(db.session, campaign_id, require_user(), utcnow())
    return campaign_figures_out(report)

"""Promotion dashboard pages: one coupon's or one group campaign's figures for its seller, the
creator's promotions on her content, and the panels the coupon and campaign pages include."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Flask, render_template, url_for

from commerce.accounts.auth import login_required, require_creator, require_user
from commerce.coupons import services as coupon_services
from commerce.coupons.models import CouponTemplate
from commerce.extensions import db
from commerce.groupbuy import services as group_services
from commerce.groupbuy.models import GroupCampaign
from commerce.promostats import present, queries
from commerce.promostats.present import Panel
from commerce.timeutil import utcnow

bp = Blueprint("promostats", __name__)


def _coupon_link(template: object) -> str:
    return url_for("promostats.coupon_figures", template_id=template.id)  # type: ignore[attr-defined]


def _campaign_link(campaign: object) -> str:
    return url_for("promostats.campaign_figures", campaign_id=campaign.id)  # type: ignore[attr-defined]


@bp.get("/merchant/coupons/<int:template_id>/figures")
@login_required
def coupon_figures(template_id: int) -> str:
    template = coupon_services.access_own_template(db.session, template_id, require_user())
    return render_template(
        "promostats/coupon.html",
        template=template,
        panel=present.coupon_panel(db.session, [template], utcnow()),
    )


@bp.get("/studio/groups/<int:campaign_id>/figures")
@login_required
def campaign_figures(campaign_id: int) -> str:
    campaign = group_services.access_campaign_for_merchant(db.session, campaign_id, require_user())
    return render_template(
        "promostats/campaign.html",
        campaign=campaign,
        panel=present.group_panel(db.session, [campaign], utcnow()),
    )


@bp.get("/studio/promotions")
@login_required
def creator_promotions() -> str:
    """Coupons and groups on the creator's videos and lives: only orders bought from them."""
    coupons, groups = present.creator_panels(db.session, require_creator().id, utcnow())
    return render_template("promostats/creator.html", coupons=coupons, groups=groups)


def seller_coupon_panel(templates: Sequence[CouponTemplate]) -> Panel:
    """The /merchant/coupons page's figures for the coupons that page lists (the seller's, or
    for admins the platform's): coupons sit below this area, so the page asks through a global."""
    return present.coupon_panel(
        db.session, list(templates[: queries.LIST_LIMIT]), utcnow(), link=_coupon_link
    )


def seller_group_panel(campaigns: list[GroupCampaign]) -> Panel:
    """The /studio/groups page's figures for the campaigns that page lists."""
    return present.group_panel(db.session, campaigns, utcnow(), link=_campaign_link)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["seller_coupon_panel"] = seller_coupon_panel
    app.jinja_env.globals["seller_group_panel"] = seller_group_panel

"""Group buying pages: a group, your groups, the seller's campaigns; the product page's part."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template

from commerce.accounts.auth import current_user, login_required, require_merchant, require_user
from commerce.extensions import db
from commerce.groupbuy import services, stats
from commerce.groupbuy.present import campaign_out, group_out, live_strings, state_label
from commerce.orders.models import Order
from commerce.orders.services import list_addresses
from commerce.timeutil import utcnow

bp = Blueprint("groupbuy", __name__)


@bp.get("/groups/<public_id>")
def group_page(public_id: str) -> str:
    user = current_user()
    group = services.access_group(db.session, public_id, user)
    now = utcnow()
    out = group_out(db.session, group, now)
    return render_template(
        "groupbuy/group.html",
        group=out,
        product=group.campaign.product,
        campaign=campaign_out(group.campaign),
        state_label=state_label,
        addresses=list_addresses(db.session, user) if user else [],
        is_member=user is not None and any(m.user_id == user.id for m in out.members),
        live_strings=live_strings(group.size),
    )


@bp.get("/me/groups")
@login_required
def my_groups() -> str:
    user = require_user()
    now = utcnow()
    rows = []
    for seat in services.my_seats(db.session, user):
        order = db.session.get(Order, seat.order_id) if seat.order_id else None
        rows.append(
            {
                "group": group_out(db.session, seat.group, now),
                "title": seat.group.campaign.product.title,
                "seat": seat,
                "order": order,
            }
        )
    return render_template("groupbuy/mine.html", rows=rows, state_label=state_label)


@bp.get("/studio/groups")
@login_required
def studio_groups() -> str:
    merchant = require_merchant()
    campaigns = services.merchant_campaigns(db.session, merchant.id)
    return render_template(
        "groupbuy/studio.html",
        items=stats.campaign_stats(db.session, campaigns),
        campaigns=campaigns,  # the figures panel's too (seller_group_panel)
        products=services.campaign_products(db.session, merchant),
    )


def product_groups(product_id: int) -> dict[str, Any] | None:
    """What the product page shows of group buying: the rules and the open groups."""
    campaign = services.active_campaign(db.session, product_id)
    if campaign is None:
        return None
    now = utcnow()
    user = current_user()
    return {
        "campaign": campaign_out(campaign),
        "groups": [
            group_out(db.session, g, now)
            for g in services.open_groups(db.session, campaign.id, now)
        ],
        "addresses": list_addresses(db.session, user) if user else [],
    }


def init_app(app: Flask) -> None:
    app.jinja_env.globals["product_groups"] = product_groups

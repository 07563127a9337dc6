"""Group buying JSON API: campaigns (seller), groups to see and join, your groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from commerce.accounts.auth import current_user, require_merchant, require_user
from commerce.apispec import endpoint
from commerce.catalog.services import access_product_for_viewing
from commerce.extensions import db
from commerce.groupbuy import services, stats
from commerce.groupbuy.present import campaign_out, group_out, group_url
from commerce.groupbuy.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignStatsList,
    GroupOrderIn,
    GroupOrderOut,
    GroupOut,
    MyGroupList,
    MyGroupOut,
    ProductGroupsOut,
)
from commerce.orders.idempotency import idempotent
from commerce.orders.models import Order
from commerce.orders.present import order_url
from commerce.orders.services import Placement
from commerce.points.rules import terms_from_config
from commerce.timeutil import utcnow
from commerce.visitor import current_visitor_id, hash_ip

bp = Blueprint("groupbuy_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/products/<int:product_id>/group-campaigns",
    methods=("POST",),
    summary="Start a group-buying campaign on your product (its rules never change after)",
    body=CampaignIn,
    response=CampaignOut,
    status=201,
    errors=(403, 404, 409, 422),
)
def create_campaign(product_id: int, body: CampaignIn) -> CampaignOut:
    campaign = services.do_create_campaign(db.session, require_merchant(), product_id, body)
    db.session.commit()
    return campaign_out(campaign)


@endpoint(
    bp,
    "/group-campaigns/<int:campaign_id>/end",
    methods=("POST",),
    summary="End your campaign: no new groups; open groups run to their end",
    response=CampaignOut,
    errors=(403, 404),
)
def end_campaign(campaign_id: int) -> CampaignOut:
    campaign = services.access_campaign_for_merchant(db.session, campaign_id, require_merchant())
    services.do_end_campaign(campaign)
    db.session.commit()
    return campaign_out(campaign)


@endpoint(
    bp,
    "/group-campaigns",
    summary="Your campaigns with groups formed, succeeded, failed, GMV and leader-free cost",
    response=CampaignStatsList,
    errors=(403,),
)
def my_campaigns() -> CampaignStatsList:
    campaigns = services.merchant_campaigns(db.session, require_merchant().id)
    return CampaignStatsList(items=stats.campaign_stats(db.session, campaigns))


@endpoint(
    bp,
    "/products/<int:product_id>/groups",
    summary="A product's group campaign (its rules) and the groups open to join",
    response=ProductGroupsOut,
    auth=False,
    errors=(404,),
)
def product_groups(product_id: int) -> ProductGroupsOut:
    product = access_product_for_viewing(db.session, product_id, current_user())
    campaign = services.active_campaign(db.session, product.id)
    now = utcnow()
    if campaign is None:
        return ProductGroupsOut(campaign=None, open_groups=[])
    return ProductGroupsOut(
        campaign=campaign_out(campaign),
        open_groups=[
            group_out(db.session, g, now)
            for g in services.open_groups(db.session, campaign.id, now)
        ],
    )


@endpoint(
    bp,
    "/groups/<group_id>",
    summary="A group: members, seats left, the server's clock and the end of its window",
    response=GroupOut,
    auth=False,
    errors=(404,),
)
def get_group(group_id: str) -> GroupOut:
    group = services.access_group(db.session, group_id, current_user())
    return group_out(db.session, group, utcnow())


@endpoint(
    bp,
    "/group-orders",
    methods=("POST",),
    summary="Open a group or join one: holds a seat and places the order; needs Idempotency-Key",
    body=GroupOrderIn,
    response=GroupOrderOut,
    status=201,
    errors=(404, 409, 422),
)
def place_group_order(body: GroupOrderIn) -> Response:
    buyer = require_user()
    how = Placement(
        buyer=buyer,
        now=utcnow(),
        deadline_minutes=current_app.config["PAYMENT_DEADLINE_MINUTES"],
        device_id=current_visitor_id(),
        ip_hash=hash_ip(request.remote_addr),
        points=terms_from_config(current_app.config),
    )

    def run() -> tuple[int, dict[str, Any]]:
        def present(orders: list[Order]) -> Order:
            return orders[0]

        order, group, seat = services.do_place_group_order(db.session, how, body, present)
        out = GroupOrderOut(
            order_id=order.public_id,
            group_id=group.public_id,
            role=seat.role,
            total_minor=order.total_minor,
            order_url=order_url(order),
            group_url=group_url(group),
        )
        return 201, out.model_dump(mode="json")

    return idempotent(buyer.id, "groupbuy.place", body.model_dump(mode="json"), run)


@endpoint(bp, "/me/groups", summary="Groups you opened or joined", response=MyGroupList)
def my_groups() -> MyGroupList:
    user = require_user()
    now = utcnow()
    items = []
    for seat in services.my_seats(db.session, user):
        order = db.session.get(Order, seat.order_id) if seat.order_id else None
        items.append(
            MyGroupOut(
                group=group_out(db.session, seat.group, now),
                role=seat.role,
                seat_state=seat.state,
                order_id=order.public_id if order else None,
                moved=seat.moved,
            )
        )
    return MyGroupList(items=items)

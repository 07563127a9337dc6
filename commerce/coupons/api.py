"""Coupons JSON API: templates (merchants, platform operators), claims, mine, LIVE vouchers."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from commerce.accounts.auth import current_user, require_user
from commerce.apispec import endpoint
from commerce.catalog.models import Product
from commerce.coupons import claims, live, services
from commerce.coupons.present import coupon_out, stats_out, template_out, templates_out
from commerce.coupons.schemas import (
    AvailableQuery,
    ClaimIn,
    CouponList,
    CouponOut,
    LiveVoucherOut,
    MerchantTemplateList,
    MineQuery,
    PinVoucherIn,
    TemplateIn,
    TemplateList,
    TemplateOut,
)
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.live.services import access_room, access_room_for_managing
from commerce.timeutil import utcnow

bp = Blueprint("coupons_api", __name__, url_prefix="/api/v1/coupons")

TEMPLATE = "/templates/<int:template_id>"


@endpoint(
    bp,
    "/templates",
    methods=("POST",),
    summary="Create a coupon template (merchants: own shop; platform operators: platform-funded)",
    body=TemplateIn,
    response=TemplateOut,
    status=201,
    errors=(400, 403, 404, 409),
)
def create_template(body: TemplateIn) -> TemplateOut:
    template = services.do_create_template(db.session, require_user(), body, utcnow())
    db.session.commit()
    return template_out(db.session, template)


@endpoint(
    bp,
    "/templates/mine",
    summary="Your coupon templates with claims, redemptions, cost and GMV",
    response=MerchantTemplateList,
)
def my_templates() -> MerchantTemplateList:
    templates = services.merchant_templates(db.session, require_user())
    gmv = live.gmv_by_template(db.session, [t.id for t in templates])
    return MerchantTemplateList(items=stats_out(db.session, templates, gmv))


@endpoint(
    bp, TEMPLATE, summary="A coupon and its rules", response=TemplateOut, auth=False, errors=(404,)
)
def get_template(template_id: int) -> TemplateOut:
    template = services.access_template(db.session, template_id)
    held = services.held_counts(db.session, current_user(), [template.id])
    return template_out(db.session, template, held.get(template.id, 0))


@endpoint(
    bp,
    TEMPLATE,
    methods=("PUT",),
    summary="Change a template (after claims only in the buyer's favour, else 409)",
    body=TemplateIn,
    response=TemplateOut,
    errors=(400, 403, 404, 409),
)
def update_template(template_id: int, body: TemplateIn) -> TemplateOut:
    user = require_user()
    template = services.access_own_template(db.session, template_id, user)
    services.do_update_template(db.session, template, user, body, utcnow())
    db.session.commit()
    return template_out(db.session, template)


def _set_state(template_id: int, paused: bool) -> TemplateOut:
    template = services.access_own_template(db.session, template_id, require_user())
    services.do_set_state(template, paused, utcnow())
    db.session.commit()
    return template_out(db.session, template)


@endpoint(
    bp,
    f"{TEMPLATE}/pause",
    methods=("POST",),
    summary="Pause claims of a template",
    response=TemplateOut,
    errors=(404,),
)
def pause_template(template_id: int) -> TemplateOut:
    return _set_state(template_id, True)


@endpoint(
    bp,
    f"{TEMPLATE}/resume",
    methods=("POST",),
    summary="Resume claims of a template",
    response=TemplateOut,
    errors=(404,),
)
def resume_template(template_id: int) -> TemplateOut:
    return _set_state(template_id, False)


@endpoint(
    bp,
    "/available",
    summary="Coupons to claim on a product or shop page",
    query=AvailableQuery,
    response=TemplateList,
    auth=False,
    errors=(404,),
)
def available(query: AvailableQuery) -> TemplateList:
    now, product = utcnow(), None
    if query.product_id is not None:
        product = db.session.get(Product, query.product_id)
        if product is None or not product.is_active:
            raise NotFound(_("This product does not exist."))
    found = services.claimable_templates(
        db.session, now, merchant_id=query.merchant_id, product=product
    )
    held = services.held_counts(db.session, current_user(), [t.id for t in found])
    return TemplateList(items=templates_out(db.session, found, held))


@endpoint(
    bp,
    f"{TEMPLATE}/claim",
    methods=("POST",),
    summary="Claim a coupon (in a live room: room_id; only while it is live)",
    body=ClaimIn,
    response=CouponOut,
    status=201,
    errors=(400, 403, 404, 409, 429),
)
def claim(template_id: int, body: ClaimIn) -> CouponOut:
    user, now = require_user(), utcnow()
    template = services.access_template(db.session, template_id)
    room = access_room(db.session, body.room_id) if body.room_id else None
    coupon = claims.do_claim(
        db.session, template, user, now, source="live" if room else body.source, room=room
    )
    db.session.commit()
    return coupon_out(db.session, coupon, now)


@endpoint(
    bp,
    "/mine",
    summary="Your coupons: valid, used or expired",
    query=MineQuery,
    response=CouponList,
)
def mine(query: MineQuery) -> CouponList:
    now = utcnow()
    coupons = claims.my_coupons(db.session, require_user(), query.state, now)
    return CouponList(items=[coupon_out(db.session, c, now) for c in coupons])


@endpoint(
    bp,
    "/live/<room_id>",
    summary="The voucher pinned in a live room, with your task progress (server time)",
    response=LiveVoucherOut,
    auth=False,
    errors=(404,),
)
def live_voucher(room_id: str) -> LiveVoucherOut:
    room, user, now = access_room(db.session, room_id), current_user(), utcnow()
    if user is not None:
        live.record_presence(db.session, room, user, now)
        db.session.commit()
    return live.voucher_card(db.session, room, user, now)


@endpoint(
    bp,
    "/live/<room_id>/pinnable",
    summary="The coupons the host may pin in her room now: her shop's, and merchants' made for her",
    response=TemplateList,
    errors=(404,),
)
def pinnable_vouchers(room_id: str) -> TemplateList:
    user, now = require_user(), utcnow()
    access_room_for_managing(db.session, room_id, user)  # her own room: she is the host
    return TemplateList(items=templates_out(db.session, live.pinnable(db.session, user, now), {}))


@endpoint(
    bp,
    "/live/<room_id>",
    methods=("POST",),
    summary="Pin one of your coupons as the room's LIVE voucher (the host)",
    body=PinVoucherIn,
    response=LiveVoucherOut,
    status=201,
    errors=(404, 409),
)
def pin_voucher(room_id: str, body: PinVoucherIn) -> LiveVoucherOut:
    user, now = require_user(), utcnow()
    room = access_room_for_managing(db.session, room_id, user)
    template = live.access_pinnable(db.session, body.template_id, user)
    live.do_pin_voucher(db.session, room, user, template, now)
    db.session.commit()
    return live.voucher_card(db.session, room, user, now)


@endpoint(
    bp,
    "/live/<room_id>",
    methods=("DELETE",),
    summary="Unpin the room's LIVE voucher",
    response=LiveVoucherOut,
    errors=(404,),
)
def unpin_voucher(room_id: str) -> LiveVoucherOut:
    user, now = require_user(), utcnow()
    room = access_room_for_managing(db.session, room_id, user)
    live.do_unpin_voucher(db.session, room, now)
    db.session.commit()
    return live.voucher_card(db.session, room, user, now)

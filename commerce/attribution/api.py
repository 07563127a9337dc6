"""Attribution JSON API: create shares, the earnings dashboard, payouts, credits, admin review."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, current_app
from sqlalchemy import select

from commerce.accounts.api import client_key
from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.attribution import dashboard, explain, ledger, payouts, review, services
from commerce.attribution.credit_state import state_of
from commerce.attribution.crediting import policy_from_config
from commerce.attribution.links import find_target
from commerce.attribution.present import (
    commission_out,
    line_credits_out,
    link_out,
    payout_out,
    share_out,
    share_url,
    tree_out,
)
from commerce.attribution.schemas import (
    BanOut,
    CommissionOut,
    DayCount,
    EarningsOut,
    OrderCreditsOut,
    PayoutIn,
    PayoutListOut,
    PayoutOut,
    ReviewIn,
    ShareIn,
    ShareOut,
)
from commerce.extensions import db
from commerce.orders.models import Order, OrderLine
from commerce.payments.webhooks import webhook_url
from commerce.timeutil import utcnow
from commerce.visitor import current_visitor_id

bp = Blueprint("attribution_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/shares",
    methods=("POST",),
    summary="Share a video, product or live room: a signed link (a child share if you arrived "
    "through someone's link; the same share again if you already have it)",
    body=ShareIn,
    response=ShareOut,
    status=201,
    errors=(400, 403, 404, 429),
)
def create_share(body: ShareIn) -> ShareOut:
    user = require_user()
    now = utcnow()
    services.check_share_rate(
        db.session, client=client_key(), now=now, limit=current_app.config["SHARE_RATE_LIMIT"]
    )
    share = services.do_create_share(
        db.session,
        user,
        kind=body.target_kind,
        key=body.target_key,
        visitor_id=current_visitor_id(),
        now=now,
        window_days=current_app.config["ATTRIBUTION_WINDOW_DAYS"],
    )
    db.session.commit()
    target = find_target(db.session, share.target_kind, share.target_key)
    return share_out(share, target.title if target else "")


@endpoint(
    bp, "/shares/<int:share_id>/qr.svg", summary="Your share link as a QR code (SVG)", errors=(404,)
)
def share_qr(share_id: int) -> Response:
    share = services.access_own_share(db.session, share_id, require_user())
    out = io.BytesIO()
    segno.make(share_url(share), error="m").save(
        out, kind="svg", scale=5, border=2, xmldecl=False, title="QR"
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@endpoint(
    bp,
    "/me/earnings",
    summary="Sharer dashboard: balances, links, clicks per day, commissions, downstream tree",
    response=EarningsOut,
)
def my_earnings() -> EarningsOut:
    user = require_user()
    now = utcnow()
    return EarningsOut(
        balances=ledger.balances_for(db.session, user.id),
        payout_minimum_minor=current_app.config["PAYOUT_MINIMUM_MINOR"],
        links=[link_out(link) for link in dashboard.my_links(db.session, user).links],
        clicks_per_day=[
            DayCount(day=day, value=n) for day, n in dashboard.clicks_per_day(db.session, user, now)
        ],
        commissions=[commission_out(*row) for row in dashboard.my_commissions(db.session, user)],
        tree=[tree_out(node) for node in dashboard.downstream_tree(db.session, user)],
    )


@endpoint(
    bp,
    "/me/payouts",
    methods=("POST",),
    summary="Request a payout from the available balance (idempotent by idempotency_key); it "
    "stays requested until the payment provider reports it paid or failed",
    body=PayoutIn,
    response=PayoutOut,
    status=201,
    errors=(400, 409),
)
def request_payout(body: PayoutIn) -> PayoutOut:
    payout = payouts.do_request_payout(
        db.session,
        require_user(),
        amount_minor=body.amount_minor,
        currency=body.currency.upper(),
        idempotency_key=body.idempotency_key,
        minimum_minor=current_app.config["PAYOUT_MINIMUM_MINOR"],
        webhook_url=webhook_url(),
        now=utcnow(),
    )
    db.session.commit()
    return payout_out(payout)


@endpoint(bp, "/me/payouts", summary="Your payouts, newest first", response=PayoutListOut)
def my_payouts() -> PayoutListOut:
    user = require_user()
    return PayoutListOut(items=[payout_out(p) for p in payouts.payouts_of(db.session, user.id)])


@endpoint(
    bp,
    "/me/payouts/<int:payout_id>",
    summary="One of your payouts: requested, paid, or failed and why",
    response=PayoutOut,
    errors=(404,),
)
def my_payout(payout_id: int) -> PayoutOut:
    return payout_out(payouts.access_payout(db.session, payout_id, require_user()))


@endpoint(
    bp,
    "/orders/<public_id>/credits",
    summary="Who was credited for the order, how much and by which rule",
    response=OrderCreditsOut,
    errors=(404,),
)
def order_credits(public_id: str) -> OrderCreditsOut:
    order = explain.access_order_credits(db.session, public_id, require_user())
    lines = explain.explain_order(db.session, order, policy_from_config(current_app.config))
    return OrderCreditsOut(
        order_public_id=order.public_id, lines=[line_credits_out(item) for item in lines]
    )


@endpoint(
    bp,
    "/admin/commissions/<int:commission_id>/review",
    methods=("POST",),
    summary="Approve or reject a held commission (platform admin)",
    body=ReviewIn,
    response=CommissionOut,
    errors=(403, 404, 409),
)
def review_commission(commission_id: int, body: ReviewIn) -> CommissionOut:
    commission = review.do_review_commission(
        db.session, require_user(), commission_id, body.decision, utcnow()
    )
    db.session.commit()
    line, order = db.session.execute(
        select(OrderLine, Order)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id == commission.order_line_id)
    ).one()
    states = dashboard.commission_states(db.session, [commission.id])
    return commission_out(commission, line, order, state_of(states, commission.id))


@endpoint(
    bp,
    "/admin/sharers/<int:user_id>/ban",
    methods=("POST",),
    summary="Ban a sharer: no new shares, pending commissions cancelled (platform admin)",
    response=BanOut,
    errors=(403, 404),
)
def ban_sharer(user_id: int) -> BanOut:
    cancelled = review.do_ban_sharer(db.session, require_user(), user_id, utcnow())
    db.session.commit()
    return BanOut(user_id=user_id, cancelled_commissions=cancelled)

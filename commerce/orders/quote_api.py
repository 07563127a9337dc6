"""The checkout quote's endpoint (drawer and cart): parse, ask orders.quote, answer in the
API's shape."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.coupons.present import headline, templates_out
from commerce.coupons.schemas import QuoteCouponOut
from commerce.extensions import db
from commerce.money import format_money
from commerce.orders.quote import OrderQuote, quote_orders
from commerce.orders.schemas import OrderItemIn
from commerce.points.rules import terms_from_config
from commerce.points.schemas import QuoteIn, QuoteOrderOut, QuoteOut, QuotePointsOut
from commerce.timeutil import utcnow

bp = Blueprint("orders_quote", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/orders/quote",
    methods=("POST",),
    summary="Price an order before placing it: the coupons that apply, the points it can take, "
    "the saving, the total",
    body=QuoteIn,
    response=QuoteOut,
    errors=(400, 404, 409),
)
def quote(body: QuoteIn) -> QuoteOut:
    items = [OrderItemIn.model_validate(item.model_dump()) for item in body.items]
    quotes = quote_orders(
        db.session,
        require_user(),
        items,
        body.coupon_ids,
        body.points_to_use,
        terms_from_config(current_app.config),
        utcnow(),
    )
    return QuoteOut(orders=[_order_out(q) for q in quotes])


def _order_out(q: OrderQuote) -> QuoteOrderOut:
    money = partial(format_money, currency=q.currency)
    return QuoteOrderOut(
        merchant_id=q.merchant_id,
        currency=q.currency,
        subtotal_minor=q.subtotal_minor,
        discount_minor=q.discount_minor,
        total_minor=q.total_minor,
        subtotal_display=money(q.subtotal_minor),
        discount_display=money(q.discount_minor),
        total_display=money(q.total_minor),
        coupons=[
            QuoteCouponOut(
                id=option.coupon.id,
                title=option.template.title,
                headline=headline(option.template),
                funded_by=option.template.funded_by,
                discount_minor=option.discount_minor,
                discount_display=money(option.discount_minor),
                applicable=option.applicable,
                chosen=option.chosen,
            )
            for option in q.coupons
        ],
        claimable=templates_out(db.session, q.claimable, q.held),
        points=QuotePointsOut(
            balance=q.points.balance,
            max_points=q.points.max_points,
            points=q.points.points,
            discount_minor=q.points.discount_minor,
            discount_display=money(q.points.discount_minor),
            max_discount_display=money(q.max_points_discount_minor),
        ),
    )

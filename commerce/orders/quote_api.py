"""The checkout drawer's quote: what an order would cost with the best (or chosen) coupons, then
the points the buyer would use."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.catalog.models import Product
from commerce.coupons import checkout as coupons
from commerce.coupons import rules
from commerce.coupons.present import headline, templates_out
from commerce.coupons.schemas import QuoteCouponOut
from commerce.coupons.services import claimable_templates, held_counts
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.money import format_money
from commerce.orders.content import content_creator
from commerce.orders.services import active_flash_sales
from commerce.points import checkout as points
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
    errors=(404,),
)
def quote(body: QuoteIn) -> QuoteOut:
    buyer, now, session = require_user(), utcnow(), db.session
    ids = [item.product_id for item in body.items]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    if any(p not in products or not products[p].is_active for p in ids):
        raise NotFound(_("This product does not exist."))
    flashes = active_flash_sales(session, ids, now)
    groups: dict[int, list[rules.Line]] = {}
    for item in body.items:
        product = products[item.product_id]
        flash = flashes.get(product.id)
        unit = flash.price_minor if flash is not None else product.price_minor
        creator = content_creator(session, item.source_kind, item.source_key, product.id)
        groups.setdefault(product.merchant_id, []).append(
            rules.Line(product.id, unit * item.quantity, creator)
        )
    orders = []
    terms = terms_from_config(current_app.config)
    balance = points.usable_balance(session, buyer.id, now)
    wanted = min(body.points_to_use or 0, balance)
    for merchant_id, lines in groups.items():
        currency = products[lines[0].product_id].currency
        found = coupons.quote(session, buyer.id, merchant_id, currency, lines, body.coupon_ids, now)
        chosen = {a.coupon_id: a.discount_minor for a in found.applied}
        subtotal = sum(line.amount_minor for line in lines)
        merchant_off, platform_off = rules.line_discounts(found.applied, len(lines))
        left = [
            line.amount_minor - m - p
            for line, m, p in zip(lines, merchant_off, platform_off, strict=True)
        ]
        by_points = points.quote(left, currency, balance, wanted, terms)
        wanted -= by_points.points
        discount = sum(chosen.values()) + by_points.discount_minor
        offered = [
            t
            for p in {line.product_id for line in lines}
            for t in claimable_templates(session, now, merchant_id=None, product=products[p])
        ]
        offered = list({t.id: t for t in offered}.values())
        held = held_counts(session, buyer, [t.id for t in offered])
        orders.append(
            QuoteOrderOut(
                merchant_id=merchant_id,
                currency=currency,
                subtotal_minor=subtotal,
                discount_minor=discount,
                total_minor=subtotal - discount,
                subtotal_display=format_money(subtotal, currency),
                discount_display=format_money(discount, currency),
                total_display=format_money(subtotal - discount, currency),
                coupons=[
                    QuoteCouponOut(
                        id=coupon.id,
                        title=template.title,
                        headline=headline(template),
                        funded_by=template.funded_by,
                        discount_minor=chosen.get(coupon.id, alone),
                        discount_display=format_money(chosen.get(coupon.id, alone), currency),
                        applicable=alone > 0,
                        chosen=coupon.id in chosen,
                    )
                    for coupon, template, alone in found.options
                ],
                claimable=[
                    t for t in templates_out(session, offered, held) if t.held < t.per_person
                ],
                points=QuotePointsOut(
                    balance=by_points.balance,
                    max_points=by_points.max_points,
                    points=by_points.points,
                    discount_minor=by_points.discount_minor,
                    discount_display=format_money(by_points.discount_minor, currency),
                    max_discount_display=format_money(
                        points.rules.discount_for(by_points.max_points, terms), currency
                    ),
                ),
            )
        )
    return QuoteOut(orders=orders)

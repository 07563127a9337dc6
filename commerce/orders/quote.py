"""The checkout quote: what the orders of a basket would cost with the best (or chosen) coupons,
then the points the buyer would use. Nothing is written.

It walks the basket as do_place_orders does (lines merged and priced by orders.pricing, one
order per merchant in the same order, coupons a previous order takes not offered to the next,
points what the previous orders left), so the quote is the order that follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.coupons import checkout as coupons
from commerce.coupons import rules
from commerce.coupons.models import Coupon, CouponTemplate
from commerce.coupons.services import claimable_templates, held_counts
from commerce.orders import pricing
from commerce.orders.schemas import OrderItemIn
from commerce.points import checkout as points


@dataclass(frozen=True)
class CouponOption:
    """A coupon the buyer holds, with what it takes off this order (chosen: with its pair)."""

    coupon: Coupon
    template: CouponTemplate
    discount_minor: int
    applicable: bool
    chosen: bool


@dataclass(frozen=True)
class OrderQuote:
    merchant_id: int
    currency: str
    subtotal_minor: int
    coupon_discount_minor: int
    points: points.PointsQuote
    max_points_discount_minor: int
    coupons: list[CouponOption]
    claimable: list[CouponTemplate]  # offered on these products, not yet held to the limit
    held: dict[int, int]  # template id -> coupons of it the buyer has claimed

    @property
    def discount_minor(self) -> int:
        return self.coupon_discount_minor + self.points.discount_minor

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor


def quote_orders(
    session: Session,
    buyer: User,
    items: Sequence[OrderItemIn],
    coupon_ids: list[int] | None,
    points_to_use: int | None,
    terms: points.rules.Terms,
    now: datetime,
) -> list[OrderQuote]:
    """One quote per order the basket would make; refused as placing would refuse it (404 a
    product not on sale, 400 one's own product or a currency mix, 409 stock short as read)."""
    merged = pricing.merge(items)
    products = pricing.load_products(session, merged)
    pricing.check_buyable(merged, products, buyer.id)
    flashes = pricing.active_flash_sales(session, list(products), now)
    by_merchant = pricing.price_lines(session, merged, products, flashes)
    pricing.check_currencies(by_merchant)
    balance = points.usable_balance(session, buyer.id, now)
    wanted = min(points_to_use or 0, balance)
    taken: set[int] = set()
    quotes = []
    for merchant_id, priced in by_merchant.items():
        currency = priced[0].product.currency
        lines = [rules.Line(p.product.id, p.amount_minor, p.creator_id) for p in priced]
        found = coupons.quote(
            session, buyer.id, merchant_id, currency, lines, coupon_ids, now, taken
        )
        chosen = {a.coupon_id: a.discount_minor for a in found.applied}
        taken.update(chosen)
        merchant_off, platform_off = rules.line_discounts(found.applied, len(lines))
        left = [
            line.amount_minor - m - p
            for line, m, p in zip(lines, merchant_off, platform_off, strict=True)
        ]
        by_points = points.quote(left, currency, balance, wanted, terms)
        wanted -= by_points.points
        claimable, held = _claimable(session, buyer, [p.product for p in priced], now)
        quotes.append(
            OrderQuote(
                merchant_id=merchant_id,
                currency=currency,
                subtotal_minor=sum(line.amount_minor for line in lines),
                coupon_discount_minor=sum(chosen.values()),
                points=by_points,
                max_points_discount_minor=points.rules.discount_for(by_points.max_points, terms),
                coupons=[
                    CouponOption(
                        coupon,
                        template,
                        chosen.get(coupon.id, alone),
                        alone > 0,
                        coupon.id in chosen,
                    )
                    for coupon, template, alone in found.options
                ],
                claimable=claimable,
                held=held,
            )
        )
    return quotes


def _claimable(
    session: Session, buyer: User, products: list[Product], now: datetime
) -> tuple[list[CouponTemplate], dict[int, int]]:
    """Templates these products offer that the buyer may still claim, and her holdings."""
    offered = {
        t.id: t
        for product in products
        for t in claimable_templates(session, now, merchant_id=None, product=product)
    }
    held = held_counts(session, buyer, list(offered))
    claimable = [t for t in offered.values() if held.get(t.id, 0) < t.per_person]
    return claimable, held

"""What each line of a basket costs before promotions: the unit price (a flash sale's, a group
seat's or the list price) and the creator it credits.

The one place both the checkout quote (orders.quote) and the order it becomes
(services.do_place_orders) price their lines, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.errors import Conflict, NotFound, ValidationFailed
from commerce.orders.content import content_creator
from commerce.orders.models import FlashSale
from commerce.orders.schemas import OrderItemIn


def active_flash_sales(
    session: Session, product_ids: list[int], now: datetime
) -> dict[int, FlashSale]:
    """The flash sale on for each product at `now` (the earliest-created if several)."""
    rows = session.scalars(
        select(FlashSale)
        .where(
            FlashSale.product_id.in_(product_ids),
            FlashSale.starts_at <= now,
            FlashSale.ends_at > now,
            FlashSale.sold < FlashSale.quantity,
        )
        .order_by(FlashSale.id)
    )
    found: dict[int, FlashSale] = {}
    for flash in rows:
        found.setdefault(flash.product_id, flash)
    return found


def merge(items: Sequence[OrderItemIn]) -> list[OrderItemIn]:
    """One line per product: quantities add up, the last source wins."""
    merged: dict[int, OrderItemIn] = {}
    for item in items:
        if item.product_id in merged:
            previous = merged[item.product_id]
            item = item.model_copy(update={"quantity": previous.quantity + item.quantity})
        merged[item.product_id] = item
    return list(merged.values())


def load_products(session: Session, items: Sequence[OrderItemIn]) -> dict[int, Product]:
    """The items' products, all of them on sale, or 404."""
    ids = [item.product_id for item in items]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    if any(i not in products or not products[i].is_active for i in ids):
        raise NotFound(_("This product does not exist."))
    return products


@dataclass(frozen=True)
class PricedLine:
    """One merged line at the price it is sold at, before coupons and points."""

    product: Product
    item: OrderItemIn
    unit_minor: int
    flash: FlashSale | None
    seat_id: int | None
    creator_id: int | None

    @property
    def amount_minor(self) -> int:
        return self.unit_minor * self.item.quantity


def price_lines(
    session: Session,
    items: Sequence[OrderItemIn],
    products: dict[int, Product],
    flashes: dict[int, FlashSale],
    group_prices: dict[int, tuple[int, int]] | None = None,
) -> dict[int, list[PricedLine]]:
    """The merged items priced, grouped by merchant in the items' order (one order each)."""
    by_merchant: dict[int, list[PricedLine]] = {}
    for item in items:
        product = products[item.product_id]
        flash = flashes.get(product.id)
        unit = flash.price_minor if flash is not None else product.price_minor
        seat = (group_prices or {}).get(product.id)
        if seat is not None:  # a group seat's price, like a flash sale's (never both)
            flash, unit = None, seat[0]
        creator = content_creator(session, item.source_kind, item.source_key, product.id)
        by_merchant.setdefault(product.merchant_id, []).append(
            PricedLine(product, item, unit, flash, seat[1] if seat else None, creator)
        )
    return by_merchant


def check_buyable(
    items: Sequence[OrderItemIn], products: dict[int, Product], buyer_id: int
) -> None:
    """Refusals the basket earns before any row is written (the quote says them too): one's own
    product, and stock already short as read (the conditional UPDATE decides at placing)."""
    for item in items:
        product = products[item.product_id]
        if product.merchant_id == buyer_id:
            raise ValidationFailed(_("You cannot buy your own product."), code="own_product")
        if product.stock < item.quantity:
            raise Conflict(
                _("%(title)s does not have enough stock left.", title=product.title),
                code="out_of_stock",
            )


def check_currencies(by_merchant: dict[int, list[PricedLine]]) -> None:
    """One order is paid in one currency: a seller's products in two cannot share it."""
    for priced in by_merchant.values():
        if len({line.product.currency for line in priced}) > 1:
            raise ValidationFailed(
                _("Products in one order must share a currency."), code="currency"
            )

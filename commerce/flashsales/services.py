"""Flash sales: a merchant sets a lower price for a window and a quantity on one product."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog.models import Product
from commerce.errors import Conflict, ValidationFailed
from commerce.flashsales.models import FlashSale
from commerce.flashsales.present import card_flash
from commerce.flashsales.schemas import CardFlashOut, FlashSaleIn


def list_flash_sales(session: Session, product_id: int) -> list[FlashSale]:
    return list(
        session.scalars(
            select(FlashSale)
            .where(FlashSale.product_id == product_id)
            .order_by(FlashSale.starts_at)
        )
    )


def current_or_next(session: Session, product_id: int, now: datetime) -> FlashSale | None:
    """The sale on now, else the next one to start: what a product card counts down to."""
    return session.scalar(
        select(FlashSale)
        .where(FlashSale.product_id == product_id, FlashSale.ends_at > now)
        .order_by(FlashSale.starts_at, FlashSale.id)
        .limit(1)
    )


def current_or_next_by_product(
    session: Session, product_ids: Iterable[int], now: datetime
) -> dict[int, FlashSale]:
    """current_or_next for many products in one query: what every product card shows."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    found: dict[int, FlashSale] = {}
    rows = session.scalars(
        select(FlashSale)
        .where(FlashSale.product_id.in_(ids), FlashSale.ends_at > now)
        .order_by(FlashSale.starts_at, FlashSale.id)
    )
    for flash in rows:
        found.setdefault(flash.product_id, flash)
    return found


def card_flashes(
    session: Session, product_ids: Iterable[int], now: datetime
) -> dict[int, CardFlashOut]:
    """Product id -> its flash sale on now or next, as cards show it (video pins, shelves)."""
    return {
        product_id: card_flash(flash, now, flash.product.currency)
        for product_id, flash in current_or_next_by_product(session, product_ids, now).items()
    }


def do_create_flash_sale(
    session: Session, product: Product, data: FlashSaleIn, now: datetime
) -> FlashSale:
    starts, ends = data.starts_at, data.ends_at
    if ends <= now:
        raise ValidationFailed(
            _("A flash sale must end in the future."), fields={"ends_at": _("In the past.")}
        )
    if data.price_minor >= product.price_minor:
        raise ValidationFailed(
            _("The flash price must be lower than the list price."),
            fields={"price_minor": _("Not lower than the list price.")},
        )
    if data.quantity > product.stock:
        raise ValidationFailed(
            _("The flash sale cannot offer more units than the product has in stock."),
            fields={"quantity": _("More than the stock.")},
        )
    overlapping = session.scalar(
        select(FlashSale.id).where(
            FlashSale.product_id == product.id,
            FlashSale.starts_at < ends,
            FlashSale.ends_at > starts,
        )
    )
    if overlapping is not None:
        raise Conflict(_("Another flash sale of this product overlaps this time."), code="overlap")
    flash = FlashSale(
        product_id=product.id,
        price_minor=data.price_minor,
        starts_at=starts,
        ends_at=ends,
        quantity=data.quantity,
        per_buyer_limit=data.per_buyer_limit,
    )
    session.add(flash)
    session.flush()
    return flash

"""Flash sales started from a room: orders' FlashSale (price, window, stock) linked to the pin.

The one place the live area reaches into orders, because the brief is to reuse orders' flash
sales rather than keep a second stock counter that checkout would not know about.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog import rules as catalog_rules
from commerce.catalog.models import Product
from commerce.catalog.present import flash_bounds
from commerce.errors import Conflict, Forbidden, ValidationFailed
from commerce.flashsales import services as flash_sales
from commerce.flashsales.models import FlashSale
from commerce.flashsales.present import flash_out
from commerce.flashsales.schemas import FlashSaleIn
from commerce.live import rules
from commerce.live.models import LiveFlashSale, LivePin, LiveRoom
from commerce.live.queries import open_pins
from commerce.live.schemas import LiveFlashOut, LiveFlashSaleIn
from commerce.money import format_money


def flashes_by_pin(session: Session, pins: list[LivePin], now: datetime) -> dict[int, FlashSale]:
    """For each pin, its product's flash sale on now or next, wherever it was started.

    A product has one flash sale at a time (orders refuses overlaps), so the one started from
    this room and one the merchant scheduled before the pin are found alike.
    """
    flashes = flash_sales.current_or_next_by_product(session, [p.product_id for p in pins], now)
    return {pin.id: flashes[pin.product_id] for pin in pins if pin.product_id in flashes}


def shelf_flashes(session: Session, room: LiveRoom, now: datetime) -> list[FlashSale]:
    """The flash sales on now or next of the shelf's products: what the shelf shows."""
    ids = [item.product_id for item in room.shelf]
    return list(flash_sales.current_or_next_by_product(session, ids, now).values())


def live_flash_out(flash: FlashSale, now: datetime, currency: str) -> LiveFlashOut:
    """orders' flash card, plus the phase and the seconds a countdown needs (server's clock)."""
    base = flash_out(flash, now, currency)
    return LiveFlashOut(
        **base.model_dump(),
        phase=rules.flash_phase(now, flash.starts_at, flash.ends_at, base.remaining),
        seconds_to_start=rules.seconds_until(now, flash.starts_at),
        seconds_left=rules.seconds_until(now, flash.ends_at),
    )


def create_room_flash_sale(
    session: Session, room: LiveRoom, actor: User, data: LiveFlashSaleIn, now: datetime
) -> tuple[LivePin, FlashSale]:
    """A flash sale of a pinned product, from now (or a little later) for a duration."""
    if room.state != rules.LIVE:
        raise Conflict(
            _("Flash sales can be started only while the room is live."), code="not_live"
        )
    pin = next((p for p in open_pins(session, room) if p.product_id == data.product_id), None)
    if pin is None:
        raise ValidationFailed(
            _("Pin the product before starting its flash sale."),
            fields={"product_id": _("Not pinned.")},
        )
    product = pin.product
    # A flash sale lowers the seller's price: the seller may set any; the room's host only
    # within the bounds the seller set on the product.
    if product.merchant_id != actor.id:
        check_creator_flash(room, product, actor, data)
    starts = now + timedelta(seconds=data.starts_in_seconds)
    flash = flash_sales.do_create_flash_sale(
        session,
        product,
        FlashSaleIn(
            price_minor=data.price_minor,
            starts_at=starts,
            ends_at=starts + timedelta(seconds=data.duration_seconds),
            quantity=data.quantity,
            per_buyer_limit=data.per_buyer_limit,
        ),
        now,
    )
    session.add(
        LiveFlashSale(flash_sale_id=flash.id, room_id=room.id, pin_id=pin.id, created_at=now)
    )
    session.flush()
    return pin, flash


def check_creator_flash(
    room: LiveRoom, product: Product, actor: User, data: LiveFlashSaleIn
) -> None:
    """A creator's flash sale: from a room they host, within each of the seller's bounds."""
    if room.creator_id != actor.id:
        raise Forbidden(_("Only the room's host or the product's seller can start a flash sale."))
    refusals = catalog_rules.creator_flash_refusals(
        flash_bounds(product),
        price_minor=data.price_minor,
        quantity=data.quantity,
        duration_seconds=data.duration_seconds,
    )
    if catalog_rules.NOT_ALLOWED in refusals:
        raise Forbidden(_("The seller does not let creators run flash sales of this product."))
    if not refusals:
        return
    currency = product.currency
    floor, most, longest = (
        product.creator_flash_min_price_minor,
        product.creator_flash_max_quantity,
        product.creator_flash_max_seconds,
    )
    words = {
        catalog_rules.PRICE: _(
            "Below the seller's lowest flash price, %(price)s.",
            price=format_money(floor, currency) if floor is not None else "-",
        ),
        catalog_rules.QUANTITY: _("More than the seller allows: at most %(n)s units.", n=most),
        catalog_rules.DURATION: _(
            "Longer than the seller allows: at most %(n)s minutes.", n=(longest or 0) // 60
        ),
    }
    raise ValidationFailed(
        _("This flash sale is outside the bounds the seller set."),
        fields={code: words[code] for code in refusals},
        code="outside_creator_flash_bounds",
    )


def do_close_room_flash_sales(session: Session, room: LiveRoom, now: datetime) -> None:
    """The show is over: its flash sales end with it (nothing is sold at the flash price after)."""
    linked = select(LiveFlashSale.flash_sale_id).where(LiveFlashSale.room_id == room.id)
    session.execute(
        update(FlashSale)
        .where(FlashSale.id.in_(linked), FlashSale.starts_at > now)
        .values(starts_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(FlashSale)
        .where(FlashSale.id.in_(linked), FlashSale.ends_at > now)
        .values(ends_at=now)
        .execution_options(synchronize_session=False)
    )


def flash_counters(session: Session, flash_ids: list[int]) -> list[tuple[int, int, int, datetime]]:
    """(id, sold, quantity, ends_at) of the given flash sales: what the fan-out polls."""
    if not flash_ids:
        return []
    rows = session.execute(
        select(FlashSale.id, FlashSale.sold, FlashSale.quantity, FlashSale.ends_at).where(
            FlashSale.id.in_(flash_ids)
        )
    )
    return [(r.id, r.sold, r.quantity, r.ends_at) for r in rows]

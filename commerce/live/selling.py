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
from commerce.errors import Conflict, Forbidden, ValidationFailed
from commerce.live import rules
from commerce.live.models import LiveFlashSale, LivePin, LiveRoom
from commerce.live.queries import open_pins
from commerce.live.schemas import LiveFlashOut, LiveFlashSaleIn
from commerce.orders import flash as flash_sales
from commerce.orders.models import FlashSale
from commerce.orders.present import flash_out
from commerce.orders.schemas import FlashSaleIn


def flashes_by_pin(session: Session, pins: list[LivePin], now: datetime) -> dict[int, FlashSale]:
    """For each pin, its newest flash sale that is not over yet."""
    if not pins:
        return {}
    rows = session.execute(
        select(LiveFlashSale.pin_id, FlashSale)
        .join(FlashSale, FlashSale.id == LiveFlashSale.flash_sale_id)
        .where(LiveFlashSale.pin_id.in_([p.id for p in pins]), FlashSale.ends_at > now)
        .order_by(FlashSale.id)
    )
    return {pin_id: flash for pin_id, flash in rows}


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
    # A flash sale lowers the seller's price: only the seller may do that, even in their room.
    if product.merchant_id != actor.id:
        raise Forbidden(_("Only the product's seller can put it on a flash sale."))
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

"""Flash sales as the API, product cards and live events show them."""

from __future__ import annotations

from datetime import datetime

from commerce.flashsales.models import FlashSale
from commerce.flashsales.rules import FlashWindow, flash_is_on
from commerce.flashsales.schemas import CardFlashOut, FlashSaleOut
from commerce.money import format_money


def window(flash: FlashSale) -> FlashWindow:
    return FlashWindow(
        flash.price_minor, flash.starts_at, flash.ends_at, flash.quantity, flash.sold
    )


def flash_out(flash: FlashSale, now: datetime, currency: str) -> FlashSaleOut:
    return FlashSaleOut(
        id=flash.id,
        product_id=flash.product_id,
        price_minor=flash.price_minor,
        price_display=format_money(flash.price_minor, currency),
        starts_at=flash.starts_at,
        ends_at=flash.ends_at,
        quantity=flash.quantity,
        sold=flash.sold,
        remaining=max(flash.quantity - flash.sold, 0),
        per_buyer_limit=flash.per_buyer_limit,
        on=flash_is_on(window(flash), now),
        server_now=now,
    )


def card_flash(flash: FlashSale, now: datetime, currency: str) -> CardFlashOut:
    """The flash sale as a product card shows it; the seconds are on the server's clock."""
    return CardFlashOut(
        id=flash.id,
        price_minor=flash.price_minor,
        price_display=format_money(flash.price_minor, currency),
        starts_at=flash.starts_at,
        ends_at=flash.ends_at,
        remaining=max(flash.quantity - flash.sold, 0),
        seconds_to_start=max(0.0, (flash.starts_at - now).total_seconds()),
        seconds_left=max(0.0, (flash.ends_at - now).total_seconds()),
        server_now=now,
    )

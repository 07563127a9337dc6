"""When a flash sale is on and what it charges: the server's clock decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FlashWindow:
    price_minor: int
    starts_at: datetime
    ends_at: datetime
    quantity: int
    sold: int


def flash_is_on(flash: FlashWindow | None, now: datetime) -> bool:
    """The server's clock decides: on from its start (inclusive) to its end (exclusive)."""
    return (
        flash is not None and flash.starts_at <= now < flash.ends_at and flash.sold < flash.quantity
    )


def unit_price(list_price_minor: int, flash: FlashWindow | None, now: datetime) -> int:
    return flash.price_minor if flash is not None and flash_is_on(flash, now) else list_price_minor

"""What the flash-sale endpoints accept and return, and a flash sale as a product card shows it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from pydantic import Field, field_validator, model_validator

from commerce.validation import BigInt, Schema


class FlashSaleIn(Schema):
    price_minor: BigInt = Field(ge=0, le=10**12)
    starts_at: datetime
    ends_at: datetime
    quantity: int = Field(ge=1, le=10_000_000)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=10_000_000)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def naive_utc(cls, value: datetime) -> datetime:
        """Times are stored as naive UTC like every time in the app; no zone means UTC."""
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)

    @model_validator(mode="after")
    def ends_after_start(self) -> FlashSaleIn:
        if self.ends_at <= self.starts_at:
            raise ValueError(_l("The sale must end after it starts."))
        return self


class FlashSaleOut(Schema):
    id: int
    product_id: int
    price_minor: int
    price_display: str
    starts_at: datetime
    ends_at: datetime
    quantity: int
    sold: int
    remaining: int
    per_buyer_limit: int | None
    on: bool
    server_now: datetime


class CardFlashOut(Schema):
    """A product's flash sale on now or next, as a card shows it (price, badge, countdown)."""

    id: int
    price_minor: int
    price_display: str
    starts_at: datetime
    ends_at: datetime
    remaining: int
    seconds_to_start: float
    seconds_left: float
    server_now: datetime

"""What the points endpoints accept and return, and the drawer quote's points part."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from commerce.coupons.schemas import QuoteIn as CouponQuoteIn
from commerce.coupons.schemas import QuoteOrderOut as CouponQuoteOrderOut
from commerce.validation import Schema


class HeldOut(Schema):
    kind: str  # purchase | share
    label: str
    amount: int
    order_id: str | None
    available_at: datetime | None = Field(
        description="When the return window ends (null until the order is delivered)."
    )


class PointsOut(Schema):
    balance: int = Field(description="Points you can use now.")
    pending: int = Field(description="Points earned, waiting for the return window.")
    expiring_soon: int = Field(description="Of the balance, points that expire before ...")
    expiring_before: datetime
    checked_in_today: bool
    streak: int = Field(description="Days in a row you checked in (today or up to yesterday).")
    next_checkin_points: int
    spend_rate: int = Field(description="Points that take one major unit (¥1) off.")
    currency: str
    held: list[HeldOut]
    rules: list[str] = Field(description="How points are earned and spent, in your language.")


class EntryOut(Schema):
    id: int
    kind: str
    label: str
    amount: int
    balance_after: int
    shortfall: int = 0
    order_id: str | None
    expires_at: datetime | None
    created_at: datetime


class EntryQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None  # pass as `cursor` for the next page; null on the last one


class CheckInOut(Schema):
    points: int
    streak: int
    balance: int


class QuoteIn(CouponQuoteIn):
    """The drawer's quote; points_to_use: what the buyer would use (the answer says what each
    order would take, within its caps)."""

    points_to_use: int | None = Field(default=None, ge=0, le=10**9)


class QuotePointsOut(Schema):
    balance: int
    max_points: int = Field(description="The most points this order can take.")
    points: int = Field(description="Points used with points_to_use.")
    discount_minor: int
    discount_display: str
    max_discount_display: str


class QuoteOrderOut(CouponQuoteOrderOut):
    points: QuotePointsOut | None = None


class QuoteOut(Schema):
    orders: list[QuoteOrderOut]

"""What the coupon endpoints accept and return."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, field_validator, model_validator

from commerce.coupons.rules import MAX_PERCENT
from commerce.validation import BigInt, Schema

Money = BigInt


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class TemplateIn(Schema):
    """A coupon template. Percent needs a cap; validity is fixed dates or N days after claim."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=80)
    kind: Literal["amount", "percent"] = "amount"
    amount_minor: Money = Field(default=0, ge=0, le=10**10)
    percent: int = Field(default=0, ge=0, le=MAX_PERCENT)
    cap_minor: Money | None = Field(default=None, ge=1, le=10**10)
    min_spend_minor: Money = Field(default=0, ge=0, le=10**10)
    scope: Literal["shop", "products", "creator"] = "shop"
    product_ids: list[int] = Field(default_factory=list, max_length=100)
    creator_id: int | None = None
    claim_starts_at: datetime | None = None
    claim_ends_at: datetime
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(default=None, ge=1, le=365)
    total: int = Field(ge=1, le=10_000_000)
    per_person: int = Field(default=1, ge=1, le=100)
    funded_by: Literal["merchant", "platform"] = "merchant"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    budget_minor: Money | None = Field(default=None, ge=1, le=10**12)
    audience: Literal["anyone", "followers", "new_customers", "granted"] = "anyone"
    live_only: bool = False
    task: Literal["none", "watch", "follow"] = "none"
    watch_seconds: int = Field(default=0, ge=0, le=6 * 3600)

    @field_validator("claim_starts_at", "claim_ends_at", "valid_from", "valid_until")
    @classmethod
    def naive_utc(cls, value: datetime | None) -> datetime | None:
        """Times are stored as naive UTC; no zone means UTC."""
        return _naive_utc(value)

    @model_validator(mode="after")
    def consistent(self) -> TemplateIn:
        if self.kind == "amount" and self.amount_minor < 1:
            raise ValueError(_l("A fixed-amount coupon needs an amount."))
        if self.kind == "percent" and (self.percent < 1 or self.cap_minor is None):
            raise ValueError(_l("A percent coupon needs a percentage (1-90) and a cap."))
        if (self.valid_days is None) == (self.valid_until is None):
            raise ValueError(_l("Give either fixed validity dates or a number of days."))
        if self.valid_until is not None and self.valid_from and self.valid_until <= self.valid_from:
            raise ValueError(_l("A coupon must stay valid after it starts."))
        if self.claim_starts_at is not None and self.claim_ends_at <= self.claim_starts_at:
            raise ValueError(_l("The claim window must end after it starts."))
        if self.scope == "products" and not self.product_ids:
            raise ValueError(_l("List the products the coupon applies to."))
        if self.scope == "creator" and self.creator_id is None:
            raise ValueError(_l("Name the creator whose content the coupon applies to."))
        if self.task == "watch" and self.watch_seconds < 1:
            raise ValueError(_l("A watch task needs a number of seconds."))
        if self.task != "none" and not self.live_only:
            raise ValueError(_l("Watch and follow tasks are for LIVE vouchers."))
        return self


class TemplateOut(Schema):
    id: int
    title: str
    owner_id: int
    merchant_id: int | None
    merchant_name: str
    funded_by: str
    kind: str
    amount_minor: int
    percent: int
    cap_minor: int | None
    min_spend_minor: int
    scope: str
    product_ids: list[int]
    creator_id: int | None
    currency: str
    claim_starts_at: datetime
    claim_ends_at: datetime
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    total: int
    claimed: int
    remaining: int
    per_person: int
    budget_minor: int | None
    spent_minor: int
    audience: str
    live_only: bool
    task: str
    watch_seconds: int
    state: str
    headline: str = Field(description="What it gives, e.g. '¥10 off orders over ¥99'")
    rules_text: list[str] = Field(description="The full rules, shown before claiming")
    held: int = Field(default=0, description="How many of it you hold (0 when signed out)")


class TemplateStatsOut(TemplateOut):
    redeemed: int
    gmv_minor: int
    cost_display: str
    gmv_display: str


class TemplateList(Schema):
    items: list[TemplateOut]


class MerchantTemplateList(Schema):
    items: list[TemplateStatsOut]


class AvailableQuery(Schema):
    product_id: int | None = None
    merchant_id: int | None = None

    @model_validator(mode="after")
    def one(self) -> AvailableQuery:
        if (self.product_id is None) == (self.merchant_id is None):
            raise ValueError(_l("Give product_id or merchant_id."))
        return self


class ClaimIn(Schema):
    source: Literal["shop", "product", "checkout", "live"] = "shop"
    room_id: str | None = Field(default=None, max_length=24, pattern=r"^[A-Za-z0-9_-]+$")


class CouponOut(Schema):
    id: int
    template_id: int
    title: str
    headline: str
    state: str
    funded_by: str
    merchant_id: int | None
    merchant_name: str
    claimed_at: datetime
    valid_from: datetime
    expires_at: datetime
    order_id: str | None
    discount_minor: int
    rules_text: list[str]


class CouponList(Schema):
    items: list[CouponOut]


class MineQuery(Schema):
    state: Literal["valid", "used", "expired"] = "valid"


class QuoteItemIn(Schema):
    product_id: int
    quantity: int = Field(default=1, ge=1, le=99)
    source_kind: Literal["video", "live"] | None = None
    source_key: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class QuoteIn(Schema):
    """What the checkout drawer would buy; coupon_ids None: the best ones, []: none."""

    items: list[QuoteItemIn] = Field(min_length=1, max_length=50)
    coupon_ids: list[int] | None = Field(default=None, max_length=2)


class QuoteCouponOut(Schema):
    id: int
    title: str
    headline: str
    funded_by: str
    discount_minor: int
    discount_display: str
    applicable: bool
    chosen: bool


class QuoteOrderOut(Schema):
    merchant_id: int
    currency: str
    subtotal_minor: int
    discount_minor: int
    total_minor: int
    subtotal_display: str
    discount_display: str
    total_display: str
    coupons: list[QuoteCouponOut]
    claimable: list[TemplateOut]


class QuoteOut(Schema):
    orders: list[QuoteOrderOut]


class PinVoucherIn(Schema):
    template_id: int


class LiveVoucherOut(Schema):
    room: str
    pinned: bool
    template: TemplateOut | None = None
    live: bool = False
    task: str = "none"
    task_done: bool = True
    seconds_to_wait: int = 0
    held: int = 0
    server_now: datetime | None = None

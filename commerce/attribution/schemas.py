"""What the attribution endpoints accept and return."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from commerce.validation import BigInt, Currency, Schema


class ShareIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    target_kind: Literal["video", "product", "live", "group", "invite"]
    target_key: str = Field(
        min_length=1, max_length=40, description="Video or live public id, or product id."
    )


class ShareOut(Schema):
    id: int
    url: str = Field(description="The signed link to send: /s/<token>, absolute.")
    qr_svg_url: str
    target_kind: str
    target_key: str
    target_title: str
    parent_id: int | None
    root_id: int | None
    depth: int
    created_at: datetime


class LinkOut(Schema):
    share: ShareOut
    clicks: int
    orders: int
    earned_minor: dict[str, int]


class DayCount(Schema):
    day: date
    value: int


class CreditStatusOut(Schema):
    """What happened to a commission, from the ledger (credit_state)."""

    state: Literal["pending", "available", "paid", "cancelled", "clawed_back", "no_pay"]
    label: str = Field(description="The state in the reader's language")
    amount_minor: int = Field(description="What it is worth now, after refunds")
    accrued_at: datetime | None
    released_at: datetime | None
    reversed_at: datetime | None = Field(description="The last refund or rejection that cut it")
    paid_at: datetime | None = Field(description="When the payout that paid it was made")


class CommissionOut(Schema):
    id: int
    order_public_id: str
    credits_url: str
    line_title: str
    role: str
    level: int
    rate_bp: int
    base_minor: int
    amount_minor: int
    currency: str
    reason: str
    review: str
    status: CreditStatusOut
    created_at: datetime


class TreeNodeOut(Schema):
    share_id: int
    sharer_id: int
    sharer_name: str
    depth: int
    clicks: int
    orders: int
    children: list[TreeNodeOut]


class EarningsOut(Schema):
    balances: dict[str, dict[str, int]] = Field(
        description="{currency: {pending, available, paid, cancelled}}"
    )
    payout_minimum_minor: int
    links: list[LinkOut]
    clicks_per_day: list[DayCount]
    commissions: list[CommissionOut]
    tree: list[TreeNodeOut]


class PayoutIn(Schema):
    amount_minor: BigInt = Field(gt=0, le=10**12)
    currency: Currency = Field(default="CNY", min_length=3, max_length=3)
    idempotency_key: str = Field(min_length=8, max_length=80)


class PayoutOut(Schema):
    id: int
    amount_minor: int
    currency: str
    state: Literal["requested", "paid", "failed"] = Field(
        description="requested until the payment provider reports it paid or failed"
    )
    state_label: str
    provider_ref: str | None
    created_at: datetime
    paid_at: datetime | None
    failed_at: datetime | None
    failure_code: str | None = Field(description="The provider's code, e.g. account_closed")
    failure_reason: str | None = Field(description="Why it failed, in the reader's language")


class PayoutListOut(Schema):
    items: list[PayoutOut]


class ReviewIn(Schema):
    decision: Literal["approve", "reject"]


class BanOut(Schema):
    user_id: int
    cancelled_commissions: int


class CreditOut(Schema):
    user_id: int
    name: str
    role: str
    level: int
    rate_bp: int
    amount_minor: int
    currency: str
    reason: str
    review: str
    status: CreditStatusOut
    explanation: str


class LineCreditsOut(Schema):
    line_id: int
    title: str
    base_minor: int = Field(description="Commission base: paid, plus any platform-funded coupon")
    coupon_notes: list[str] = Field(default_factory=list, description="What coupons changed")
    creator_name: str | None
    chain: list[str] = Field(description="Sharer names, nearest (direct sharer) first.")
    credits: list[CreditOut]


class OrderCreditsOut(Schema):
    order_public_id: str
    lines: list[LineCreditsOut]

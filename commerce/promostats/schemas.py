"""What the dashboard endpoints return: the figures of one coupon or one group campaign, all
time and per day of the last 30 days, as the pages show them (amounts in minor units)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from commerce.validation import BigInt, Schema

RATE = "In basis points (6000 = 60.0 %), rounded down; null when there is nothing to divide by."


class CouponTotalsOut(Schema):
    """All time, the page's table row."""

    claims: int
    redemptions: int = Field(description="Uses on paid orders.")
    redemption_rate_bp: int | None = Field(description=RATE)
    cost_minor: BigInt = Field(description="Discounts given on paid orders.")
    gmv_minor: BigInt = Field(description="What those orders paid, net of refunds.")
    currency: str


class CouponDayOut(Schema):
    date: date
    claims: int = Field(description="Claims made that day.")
    redemptions: int = Field(description="Coupons used by orders paid that day.")


class CouponMoneyDayOut(Schema):
    date: date
    merchant_cost_minor: BigInt
    platform_cost_minor: BigInt
    gmv_minor: BigInt


class CouponMoneyOut(Schema):
    """One currency's cost by funder and GMV: the window's sums and each day's."""

    currency: str
    merchant_cost_minor: BigInt
    platform_cost_minor: BigInt
    gmv_minor: BigInt
    days: list[CouponMoneyDayOut]


class CouponWindowOut(Schema):
    since: date = Field(description="The window's first day (server time), today included.")
    until: date
    claims: int
    redemptions: int
    redemption_rate_bp: int | None = Field(description=RATE)
    days: list[CouponDayOut] = Field(description="One per day, oldest first; no gaps.")
    money: list[CouponMoneyOut]


class CouponFiguresOut(Schema):
    template_id: int
    title: str
    totals: CouponTotalsOut
    last_30_days: CouponWindowOut


class GroupTotalsOut(Schema):
    """All time, the page's table row."""

    opened: int = Field(description="Groups whose leader paid: open, succeeded or failed.")
    open: int
    succeeded: int
    failed: int = Field(description="Expired unfilled; every member refunded.")
    fill_rate_bp: int | None = Field(description=RATE)
    gmv_minor: BigInt = Field(description="Paid seats' orders, net of refunds.")
    rebates: int = Field(description="Leader-free rebates paid.")
    rebate_minor: BigInt
    currency: str


class GroupDayOut(Schema):
    date: date
    opened: int
    succeeded: int = Field(description="Groups that filled that day.")
    failed: int = Field(description="Groups that expired unfilled that day.")


class GroupMoneyDayOut(Schema):
    date: date
    gmv_minor: BigInt
    rebate_minor: BigInt


class GroupMoneyOut(Schema):
    currency: str
    gmv_minor: BigInt
    rebate_minor: BigInt
    days: list[GroupMoneyDayOut]


class GroupWindowOut(Schema):
    since: date = Field(description="The window's first day (server time), today included.")
    until: date
    opened: int
    succeeded: int
    failed: int
    fill_rate_bp: int | None = Field(description=RATE)
    days: list[GroupDayOut] = Field(description="One per day, oldest first; no gaps.")
    money: list[GroupMoneyOut]


class CampaignFiguresOut(Schema):
    campaign_id: int
    product_id: int
    title: str
    totals: GroupTotalsOut
    last_30_days: GroupWindowOut

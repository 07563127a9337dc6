"""What the group-buying endpoints accept and return."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from pydantic import Field, model_validator

from commerce.groupbuy.rules import MAX_GROUP_SIZE, MAX_WINDOW_MINUTES
from commerce.orders.schemas import SourceIn
from commerce.validation import BigInt, Schema


class CampaignIn(Schema):
    price_minor: BigInt = Field(ge=0, le=10**12)
    group_size: int = Field(ge=2, le=MAX_GROUP_SIZE)
    window_minutes: int = Field(default=24 * 60, ge=5, le=MAX_WINDOW_MINUTES)
    per_person_limit: int = Field(default=1, ge=1, le=1000)
    total_limit: int | None = Field(default=None, ge=1, le=10_000_000)
    leader_free: bool = False
    free_quota: int = Field(default=0, ge=0, le=1_000_000)
    free_budget_minor: BigInt = Field(default=0, ge=0, le=10**12)
    notes: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def leader_free_needs_quota(self) -> CampaignIn:
        if self.leader_free and (self.free_quota < 1 or self.free_budget_minor < 1):
            raise ValueError(_l("Leader rides free needs a quota and a budget."))
        return self


class CampaignOut(Schema):
    id: int
    product_id: int
    price_minor: int
    price_display: str
    list_price_minor: int
    group_size: int
    window_minutes: int
    per_person_limit: int
    total_limit: int | None
    taken: int
    leader_free: bool
    free_quota: int
    free_used: int
    free_budget_minor: int
    free_spent_minor: int
    active: bool
    rules: list[str]


class MemberOut(Schema):
    user_id: int
    name: str
    avatar_url: str | None = None
    role: str
    state: str


class GroupOut(Schema):
    id: str
    product_id: int
    campaign_id: int
    leader_id: int
    leader_name: str
    state: str
    size: int
    paid: int
    held: int
    seats_left: int
    opened_at: datetime | None
    expires_at: datetime | None
    seconds_left: int
    server_now: datetime
    rebate_state: str
    members: list[MemberOut]
    url: str


class ProductGroupsOut(Schema):
    campaign: CampaignOut | None
    open_groups: list[GroupOut]


class GroupOrderIn(SourceIn):
    """Open a group (no group_id) or join one (its id), for one unit at the group price."""

    product_id: int
    address_id: int
    group_id: str | None = Field(default=None, max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    points_to_use: int | None = Field(
        default=None, ge=0, le=10**9, description="Use up to this many points (see /orders)."
    )


class GroupOrderOut(Schema):
    order_id: str
    group_id: str
    role: str
    total_minor: int
    order_url: str
    group_url: str


class MyGroupOut(Schema):
    group: GroupOut
    role: str
    seat_state: str
    order_id: str | None
    moved: bool


class MyGroupList(Schema):
    items: list[MyGroupOut]


class CampaignStatsOut(Schema):
    campaign: CampaignOut
    title: str
    formed: int
    succeeded: int
    failed: int
    open: int
    gmv_minor: int
    cost_minor: int
    currency: str


class CampaignStatsList(Schema):
    items: list[CampaignStatsOut]


class GroupRef(Schema):
    """The group a Socket.IO event is about (its public id, as in its page's URL)."""

    group: str = Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_-]+$")

"""Group buying (拼团): a merchant's campaign on a product, the groups viewers open, their seats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import MONEY, db
from commerce.groupbuy.rules import PENDING
from commerce.timeutil import utcnow


class GroupCampaign(db.Model):
    """A group price on a product, with its rules; shown in full before anyone takes part.

    `taken` counts seats held or paid against `total_limit` (a conditional UPDATE); the leader-free
    rebate draws on `free_used` / `free_spent_minor` the same way.
    """

    __tablename__ = "group_campaigns"
    __table_args__ = (
        CheckConstraint("group_size >= 2", name="group_of_two_or_more"),
        CheckConstraint("price_minor >= 0", name="group_price_not_negative"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
        CheckConstraint("free_used >= 0 AND free_used <= free_quota", name="free_within_quota"),
        CheckConstraint(
            "free_spent_minor >= 0 AND free_spent_minor <= free_budget_minor",
            name="free_within_budget",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price_minor: Mapped[int] = mapped_column(MONEY)
    group_size: Mapped[int]
    window_minutes: Mapped[int] = mapped_column(default=24 * 60)
    per_person_limit: Mapped[int] = mapped_column(default=1)
    total_limit: Mapped[int | None]
    taken: Mapped[int] = mapped_column(default=0)
    leader_free: Mapped[bool] = mapped_column(default=False)
    free_quota: Mapped[int] = mapped_column(default=0)
    free_used: Mapped[int] = mapped_column(default=0)
    free_budget_minor: Mapped[int] = mapped_column(MONEY, default=0)
    free_spent_minor: Mapped[int] = mapped_column(MONEY, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()


class GroupBuyer(db.Model):
    """Seats one person holds or paid in one campaign: the per-person limit races on it."""

    __tablename__ = "group_buyers"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    taken: Mapped[int] = mapped_column(default=0)


class Group(db.Model):
    """One group: pending until its leader pays, then open until full (succeeded) or expired."""

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("paid >= 0 AND held >= 0 AND paid + held <= size", name="never_overfilled"),
        Index("ix_groups_state_expires", "state", "expires_at"),
        Index("ix_groups_campaign_state", "campaign_id", "state"),
        # The promotion dashboards: groups opened and closed per campaign per day.
        Index("ix_groups_campaign_opened", "campaign_id", "opened_at"),
        Index("ix_groups_campaign_closed", "campaign_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    size: Mapped[int]
    paid: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Leader-free rebate: "" (not decided), paid, none (no quota, budget or not eligible)
    rebate_state: Mapped[str] = mapped_column(String(8), default="")
    rebate_minor: Mapped[int] = mapped_column(MONEY, default=0)
    rebated_at: Mapped[datetime | None]  # when the rebate was paid (the dashboards' day)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[GroupCampaign] = relationship()
    leader: Mapped[User] = relationship()
    seats: Mapped[list[GroupSeat]] = relationship(
        back_populates="group", order_by="GroupSeat.id", foreign_keys="GroupSeat.group_id"
    )


class GroupSeat(db.Model):
    """A person's place in a group: held while they pay, then paid, released or refunded.

    `joined_group_id` is the group they set out to open or join; `group_id` is where the seat
    ended up (a payment that finds its group closed seats its payer as the leader of a new one).
    """

    __tablename__ = "group_seats"
    # The promotion dashboards: a campaign's paid seats (GMV) per day.
    __table_args__ = (Index("ix_group_seats_campaign_state", "campaign_id", "state", "paid_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    joined_group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    role: Mapped[str] = mapped_column(String(8))  # leader | member
    state: Mapped[str] = mapped_column(String(10))  # held | paid | released | refunded
    moved: Mapped[bool] = mapped_column(default=False)  # paid into a new group (told on the order)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship(back_populates="seats", foreign_keys=[group_id])
    user: Mapped[User] = relationship()

"""Coupon templates, the coupons people claimed from them, and vouchers pinned in live rooms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.coupons.rules import AMOUNT, MERCHANT, SHOP
from commerce.extensions import MONEY, db
from commerce.timeutil import utcnow

ANYONE, FOLLOWERS, NEW_CUSTOMERS = "anyone", "followers", "new_customers"
# Given by the platform (an invitation's welcome coupon, a sharer's invite reward): never
# offered to claim, only granted by the service that decides who gets one (do_grant).
GRANTED = "granted"
ACTIVE, PAUSED = "active", "paused"
VALID, USED, EXPIRED = "valid", "used", "expired"
NO_TASK, WATCH, FOLLOW = "none", "watch", "follow"


class CouponTemplate(db.Model):
    """What a coupon gives and who may claim it; `claimed` and `spent_minor` are the counters
    every claim and redemption takes from with a conditional UPDATE."""

    __tablename__ = "coupon_templates"
    __table_args__ = (
        CheckConstraint("claimed >= 0 AND claimed <= total", name="claimed_within_total"),
        CheckConstraint("redeemed >= 0 AND redeemed <= claimed", name="redeemed_within_claimed"),
        CheckConstraint(
            "budget_minor IS NULL OR (spent_minor >= 0 AND spent_minor <= budget_minor)",
            name="spent_within_budget",
        ),
        CheckConstraint("per_person >= 1", name="per_person_positive"),
        CheckConstraint("kind IN ('amount', 'percent')", name="kind_known"),
        CheckConstraint("funded_by IN ('merchant', 'platform')", name="funder_known"),
        Index("ix_coupon_templates_merchant", "merchant_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    funded_by: Mapped[str] = mapped_column(String(10), default=MERCHANT)
    # The shop whose goods it discounts; None: a platform coupon for any shop.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    kind: Mapped[str] = mapped_column(String(10), default=AMOUNT)
    amount_minor: Mapped[int] = mapped_column(MONEY, default=0)
    percent: Mapped[int] = mapped_column(default=0)  # 1..90 off, with cap_minor
    cap_minor: Mapped[int | None] = mapped_column(MONEY)
    min_spend_minor: Mapped[int] = mapped_column(MONEY, default=0)
    scope: Mapped[str] = mapped_column(String(10), default=SHOP)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claim_starts_at: Mapped[datetime]
    claim_ends_at: Mapped[datetime]
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    valid_days: Mapped[int | None]
    total: Mapped[int]
    claimed: Mapped[int] = mapped_column(default=0)
    redeemed: Mapped[int] = mapped_column(default=0)
    per_person: Mapped[int] = mapped_column(default=1)
    budget_minor: Mapped[int | None] = mapped_column(MONEY)
    spent_minor: Mapped[int] = mapped_column(MONEY, default=0)
    audience: Mapped[str] = mapped_column(String(16), default=ANYONE)
    # A LIVE voucher is claimable only in a room where it is pinned, while the room is live.
    live_only: Mapped[bool] = mapped_column(default=False)
    task: Mapped[str] = mapped_column(String(10), default=NO_TASK)
    watch_seconds: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(10), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CouponHolding(db.Model):
    """How many coupons of a template one person has claimed: the per-person limit races here."""

    __tablename__ = "coupon_holdings"

    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class Coupon(db.Model):
    """One claimed coupon: valid until used by exactly one order, or past its validity."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("template_id", "user_id", "n", name="uq_coupon_claim_number"),
        CheckConstraint("state IN ('valid', 'used', 'expired')", name="coupon_state_known"),
        Index("ix_coupons_user_state", "user_id", "state", "expires_at"),
        Index("ix_coupons_state_expires", "state", "expires_at"),
        # The promotion dashboards: claims per template per day, and those made in a room.
        Index("ix_coupons_template_claimed", "template_id", "claimed_at"),
        Index("ix_coupons_room_claimed", "room_id", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    n: Mapped[int]  # the holder's 1st, 2nd... coupon of this template
    source: Mapped[str] = mapped_column(String(10), default="shop")  # shop|product|live|checkout
    room_id: Mapped[int | None] = mapped_column(ForeignKey("live_rooms.id"))
    state: Mapped[str] = mapped_column(String(10), default=VALID)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    discount_minor: Mapped[int] = mapped_column(MONEY, default=0)
    used_at: Mapped[datetime | None]

    template: Mapped[CouponTemplate] = relationship()


class LiveVoucher(db.Model):
    """A voucher pinned in a live room; unpinned_at ends it (one pinned at a time per room)."""

    __tablename__ = "live_vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"))
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)
    unpinned_at: Mapped[datetime | None]

    template: Mapped[CouponTemplate] = relationship()


class RoomPresence(db.Model):
    """When the server first saw a signed-in viewer in a live room: watch-time tasks count from
    here, on the server's clock (a client never says how long it watched)."""

    __tablename__ = "coupon_room_presence"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Addresses, carts, orders and their lines, flash sales, per-buyer counters, idempotency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import MONEY, db
from commerce.flashsales.models import FlashSale as FlashSale  # checkout reads it here too
from commerce.orders.rules import PENDING_PAYMENT
from commerce.timeutil import utcnow


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(32))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(80), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="CN")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def snapshot(self) -> dict[str, str]:
        return {
            name: getattr(self, name)
            for name in ("name", "phone", "line1", "line2", "city", "region", "postal_code")
        } | {"country": self.country}


class CartItem(db.Model):
    """A product in a buyer's cart, remembering the content it was added from."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("user_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    source_kind: Mapped[str | None] = mapped_column(String(16))  # video | live
    source_key: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()


class PurchaseCounter(db.Model):
    """Units a buyer holds of a product (placed, not cancelled): per-buyer limits race on it."""

    __tablename__ = "purchase_counters"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=0)


class Order(db.Model):
    """One buyer's order from one merchant."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= total_minor", "refund_bounds"),
        Index("ix_orders_state_expires", "state", "expires_at"),
        # The newest orders of one seller or buyer, read by keyset (lifecycle.list_orders).
        Index("ix_orders_merchant_recent", "merchant_id", "created_at", "id"),
        Index("ix_orders_buyer_recent", "buyer_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=PENDING_PAYMENT)
    fulfilment: Mapped[str] = mapped_column(String(20), default="paid")  # furthest step reached
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(MONEY)
    discount_minor: Mapped[int] = mapped_column(MONEY, default=0)
    shipping_minor: Mapped[int] = mapped_column(MONEY, default=0)
    total_minor: Mapped[int] = mapped_column(MONEY)
    refunded_minor: Mapped[int] = mapped_column(MONEY, default=0)
    # Points spent on the order and the money they took off (inside discount_minor).
    points_used: Mapped[int] = mapped_column(default=0, server_default="0")
    points_discount_minor: Mapped[int] = mapped_column(MONEY, default=0, server_default="0")
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    # Why the order may not ship yet ("group": its group has not filled); None ships freely.
    ship_hold: Mapped[str | None] = mapped_column(String(16))
    refund_requested: Mapped[bool] = mapped_column(default=False)
    refund_request_reason: Mapped[str] = mapped_column(Text, default="")
    # "" (never asked), requested, approved (the seller refunded), declined (with a reason)
    refund_request_state: Mapped[str] = mapped_column(String(12), default="")
    refund_requested_at: Mapped[datetime | None]
    refund_decided_at: Mapped[datetime | None]
    refund_decline_reason: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[str | None] = mapped_column(
        String(32)
    )  # the buyer's browser, for fraud flags
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    merchant: Mapped[User] = relationship(foreign_keys=[merchant_id])
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[OrderEvent]] = relationship(
        order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


class OrderLine(db.Model):
    """A product bought: a price snapshot, the content it came from, the share chain at payment."""

    __tablename__ = "order_lines"
    # The creator's promotion dashboard: the orders bought from her videos and lives.
    __table_args__ = (Index("ix_order_lines_creator", "creator_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    list_price_minor: Mapped[int] = mapped_column(MONEY)
    unit_price_minor: Mapped[int] = mapped_column(MONEY)
    quantity: Mapped[int]
    # What the buyer pays for the line after discounts: the commission base.
    amount_minor: Mapped[int] = mapped_column(MONEY)
    refunded_minor: Mapped[int] = mapped_column(MONEY, default=0)
    # Coupon discounts taken off this line (already out of amount_minor), by who funds them.
    merchant_discount_minor: Mapped[int] = mapped_column(MONEY, default=0, server_default="0")
    platform_discount_minor: Mapped[int] = mapped_column(MONEY, default=0, server_default="0")
    # Points spent on this line and what they took off (already out of amount_minor). The
    # platform pays the shop for them, so like a platform coupon they keep the commission base.
    points_used: Mapped[int] = mapped_column(default=0, server_default="0")
    points_discount_minor: Mapped[int] = mapped_column(MONEY, default=0, server_default="0")
    flash_sale_id: Mapped[int | None] = mapped_column(ForeignKey("flash_sales.id"))
    # The group seat a group-priced line was bought into (commerce/groupbuy's group_seats.id; no
    # database foreign key, so orders never names a table of the area above it); None otherwise.
    group_seat_id: Mapped[int | None]
    creator_rate_bp: Mapped[int] = mapped_column(default=0)  # the product's rates when ordered
    sharer_rate_bp: Mapped[int] = mapped_column(default=0)
    # Content attribution: the video or live room it was bought from, and its creator.
    source_kind: Mapped[str | None] = mapped_column(String(16))
    source_key: Mapped[str | None] = mapped_column(String(40))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Sharer attribution, frozen at payment: the click that won and the chain (nearest first).
    # Indexed: the dashboards count the orders won through a share's clicks.
    click_id: Mapped[int | None] = mapped_column(ForeignKey("share_clicks.id"), index=True)
    chain: Mapped[list[int] | None] = mapped_column(JSON)  # sharer user ids, nearest first
    attributed_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def commission_base_minor(self) -> int:
        """What the merchant really receives for the goods: a platform-funded discount (a
        platform coupon, points) is paid to the merchant by the platform, so it does not lower
        the base; a merchant's does."""
        return self.amount_minor + self.platform_discount_minor + self.points_discount_minor


class OrderEvent(db.Model):
    """The order's history: every state change, who made it and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(db.Model):
    """The first response to a request with an Idempotency-Key, replayed for retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

"""Products belong to a merchant, who sets price, stock, limits and commission rates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.extensions import MONEY, db
from commerce.files.models import StoredObject
from commerce.timeutil import utcnow


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("creator_rate_bp BETWEEN 0 AND 10000", name="creator_rate_range"),
        CheckConstraint("sharer_rate_bp BETWEEN 0 AND 10000", name="sharer_rate_range"),
        CheckConstraint("creator_flash IN ('none', 'all')", name="creator_flash_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    stock: Mapped[int] = mapped_column(default=0)
    per_buyer_limit: Mapped[int | None]
    creator_rate_bp: Mapped[int] = mapped_column(default=0)
    sharer_rate_bp: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Which creators may start flash sales of it from their lives ("none" or "all"), and within
    # what: the lowest flash price, the most units, the longest run (rules.CreatorFlashBounds).
    creator_flash: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    creator_flash_min_price_minor: Mapped[int | None] = mapped_column(MONEY)
    creator_flash_max_quantity: Mapped[int | None]
    creator_flash_max_seconds: Mapped[int | None]
    # Visible reviews and their stars added up: a read model the reviews area keeps with one
    # atomic UPDATE per change, so every card shows the average without a query of its own.
    review_count: Mapped[int] = mapped_column(default=0, server_default="0")
    review_star_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    merchant: Mapped[User] = relationship()
    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan"
    )


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("stored_objects.id"))
    position: Mapped[int] = mapped_column(default=0)

    object: Mapped[StoredObject] = relationship()

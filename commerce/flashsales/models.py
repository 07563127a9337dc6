"""A flash sale: a lower price on a product for a window and a quantity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.catalog.models import Product
from commerce.extensions import MONEY, db
from commerce.timeutil import utcnow


class FlashSale(db.Model):
    """A lower price for a window and a quantity; the server's clock decides."""

    __tablename__ = "flash_sales"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND sold <= quantity", name="sold_within_quantity"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    price_minor: Mapped[int] = mapped_column(MONEY)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    quantity: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0)
    per_buyer_limit: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()

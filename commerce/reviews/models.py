"""Reviews of delivered order lines (stars, words, photos) and the seller's one reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.reviews.rules import VISIBLE
from commerce.timeutil import utcnow


class Review(db.Model):
    """One per order line: the unique order_line_id decides a race between two submissions.

    Deleting or hiding keeps the row (so the line cannot be reviewed a second time and the
    audit log's target still exists); the product's rating counts visible reviews only.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("state IN ('visible', 'hidden', 'deleted')", name="state_known"),
        # A product's visible reviews, newest first: keyset pages and the star histogram.
        Index("ix_reviews_product_recent", "product_id", "state", "created_at", "id"),
        Index("ix_reviews_author_recent", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(8), default=VISIBLE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    photos: Mapped[list[ReviewPhoto]] = relationship(
        order_by="ReviewPhoto.position", cascade="all, delete-orphan"
    )


class ReviewPhoto(db.Model):
    __tablename__ = "review_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("stored_objects.id"))
    position: Mapped[int] = mapped_column(default=0)

    object: Mapped[StoredObject] = relationship()

"""The social graph: who follows whom (creators and shops are both accounts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow


class Follow(db.Model):
    """One follow. The primary key makes a second follow impossible, whatever races to insert
    it; counts are index range counts (ix_follows_followee), so they are never out of step."""

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("follower_id <> followee_id", name="not_self"),
        Index("ix_follows_followee", "followee_id", "created_at"),
        Index("ix_follows_follower_recent", "follower_id", "created_at"),
        # A creator's followers in id order: the notification fan-out's batches are range scans.
        Index("ix_follows_followee_follower", "followee_id", "follower_id"),
    )

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FirstFollow(db.Model):
    """When someone first followed an account: kept after an unfollow, so a re-follow is never
    new again (follow-gated rewards count a first follow only)."""

    __tablename__ = "first_follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)

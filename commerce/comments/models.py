"""Comments on videos (a replay is a video too), their likes, and the users they mention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.comments.rules import VISIBLE
from commerce.extensions import db
from commerce.timeutil import utcnow


class Comment(db.Model):
    """A top comment (parent_id NULL) or a reply under one; replies never nest deeper.

    Deleting or hiding keeps the row, so the thread under a top comment stays readable.
    """

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint("state IN ('visible', 'held', 'deleted', 'hidden')", name="state_known"),
        CheckConstraint("like_count >= 0 AND reply_count >= 0", name="counts_not_negative"),
        # A video's top comments, newest first, and a thread's replies, oldest first: keyset pages.
        Index("ix_comments_video_top", "video_id", "parent_id", "created_at", "id"),
        Index("ix_comments_parent", "parent_id", "created_at", "id"),
        Index("ix_comments_author_recent", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    # The reply answers this user (a reply to a reply shows "A ▸ B" under the top comment).
    reply_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default=VISIBLE)
    held_keyword: Mapped[str | None] = mapped_column(String(100))
    like_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)  # replies others can see
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reply_to_user: Mapped[User | None] = relationship(foreign_keys=[reply_to_user_id])


class CommentLike(db.Model):
    __tablename__ = "comment_likes"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentMention(db.Model):
    """A user named with @ in a comment: kept for the notifications feature to read."""

    __tablename__ = "comment_mentions"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id", name="uq_comment_mentions_comment_user"),
        Index("ix_comment_mentions_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

"""Videos, their renditions, product pins, and the resumable uploads they come from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.timeutil import utcnow
from commerce.videos import rules

PROCESSING, READY, FAILED = "processing", "ready", "failed"
OUT_OF_SPACE = "insufficient_storage"  # Video.error code: the disk filled up while processing


class Video(db.Model):
    __tablename__ = "videos"
    __table_args__ = (
        # "For you": one index range in score order (commerce/videos/rules.py says why a stored
        # score is enough); "Following": the newest videos of each followed creator.
        Index("ix_videos_rank", "rank_score", "id"),
        Index("ix_videos_creator_published", "creator_id", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=PROCESSING)
    playable: Mapped[bool] = mapped_column(default=False)
    progress: Mapped[int] = mapped_column(default=0)  # percent of processing
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    cover_ms: Mapped[int | None]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("stored_objects.id"))
    poster_id: Mapped[int | None] = mapped_column(ForeignKey("stored_objects.id"))
    sprite_id: Mapped[int | None] = mapped_column(ForeignKey("stored_objects.id"))
    sprite_tiles: Mapped[int] = mapped_column(default=0)
    sprite_interval_ms: Mapped[int] = mapped_column(default=0)
    master_key: Mapped[str | None] = mapped_column(String(512))
    fallback_key: Mapped[str | None] = mapped_column(String(512))
    view_count: Mapped[int] = mapped_column(default=0)
    # Engagement counters, changed by one atomic UPDATE each (likes and favourites only when
    # their row was really inserted or deleted), and the For-you score computed from them.
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    favourite_count: Mapped[int] = mapped_column(default=0, server_default="0")
    purchase_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Comments others can see (top comments and replies), moved by the comments area.
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Seconds watched, in milliseconds, added up over every viewing (each capped at the video's
    # length): a counter, never a row per beacon (commerce/videos/watch.py).
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rank_score: Mapped[float | None] = mapped_column(Float)  # NULL while unpublished
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)

    creator: Mapped[User] = relationship()
    source: Mapped[StoredObject | None] = relationship(foreign_keys=[source_id])
    poster: Mapped[StoredObject | None] = relationship(foreign_keys=[poster_id])
    sprite: Mapped[StoredObject | None] = relationship(foreign_keys=[sprite_id])
    renditions: Mapped[list[Rendition]] = relationship(
        order_by="Rendition.height", cascade="all, delete-orphan"
    )
    pins: Mapped[list[VideoPin]] = relationship(
        order_by="VideoPin.start_ms", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def storage_prefix(self) -> str:
        return f"videos/{self.public_id}/"


@event.listens_for(Video, "before_insert")
@event.listens_for(Video, "before_update")
def _keep_rank_with_publication(_mapper: Any, _connection: Any, video: Video) -> None:
    """Published videos always have a score and drafts never do, whichever code publishes: a
    first score from the counters here; engagement.refresh_rank adds what needs queries."""
    if video.published_at is None:
        video.rank_score = None
    elif video.rank_score is None:
        video.rank_score = rules.rank_score(
            rules.Engagement(
                views=video.view_count or 0,
                likes=video.like_count or 0,
                favourites=video.favourite_count or 0,
                purchases=video.purchase_count or 0,
                comments=video.comment_count or 0,
                watch_ms=video.watch_ms or 0,
            ),
            video.published_at,
        )


class Rendition(db.Model):
    __tablename__ = "renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    width: Mapped[int]
    height: Mapped[int]
    bandwidth: Mapped[int]
    playlist_key: Mapped[str] = mapped_column(String(512))


class VideoPin(db.Model):
    """A product shown over the video from start_ms until end_ms (or the end of the video)."""

    __tablename__ = "video_pins"
    __table_args__ = (
        CheckConstraint("start_ms >= 0", name="start_not_negative"),
        CheckConstraint("end_ms IS NULL OR end_ms > start_ms", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    start_ms: Mapped[int]
    end_ms: Mapped[int | None]

    product: Mapped[Product] = relationship()


class Upload(db.Model):
    """A resumable upload: chunks are appended at `received` until it reaches `size`."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VideoLike(db.Model):
    """A like: the primary key makes liking twice (or two racing likes) one like."""

    __tablename__ = "video_likes"
    __table_args__ = (Index("ix_video_likes_user_recent", "user_id", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoFavourite(db.Model):
    """A saved video, listed newest first in the viewer's favourites."""

    __tablename__ = "video_favourites"
    __table_args__ = (Index("ix_video_favourites_user_recent", "user_id", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoWatch(db.Model):
    """One viewing (a play named by the feed's player) while it may still add watch time.

    What it credited so far caps what it may add (the video's length, and the time that really
    passed since it started). Rows live a day (watch.prune_watches): the per-video total in
    Video.watch_ms is what stays, so the table never grows with every beacon ever sent.
    """

    __tablename__ = "video_watches"
    __table_args__ = (
        Index("ix_video_watches_viewer_recent", "viewer_key", "started_at"),
        Index("ix_video_watches_started", "started_at"),
    )

    video_id: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    view_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    viewer_key: Mapped[str] = mapped_column(String(64))  # user:<id> or a hashed address
    credited_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Videos, their renditions, product pins, and the resumable uploads they come from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.timeutil import utcnow

PROCESSING, READY, FAILED = "processing", "ready", "failed"
OUT_OF_SPACE = "insufficient_storage"  # Video.error code: the disk filled up while processing


class Video(db.Model):
    __tablename__ = "videos"

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

"""Live rooms: the shelf, pins (history kept), staff, chat, mutes, bans, flash sales, statistics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.live.rules import SCHEDULED
from commerce.timeutil import utcnow

if TYPE_CHECKING:  # orders sits above live: the flash-sale table is named, never imported
    from commerce.flashsales.models import FlashSale


class LiveRoom(db.Model):
    """One live show. A new show is a new room: the media layer never reuses an ended room id."""

    __tablename__ = "live_rooms"
    __table_args__ = (
        CheckConstraint("state IN ('scheduled', 'live', 'ended')", name="state_known"),
        CheckConstraint("slow_mode_seconds >= 0", name="slow_mode_not_negative"),
        Index("ix_live_rooms_creator_scheduled", "creator_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("stored_objects.id"))
    scheduled_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default=SCHEDULED, index=True)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # SHA-256 of the stream key: the key itself is shown once, when it is made.
    stream_key_hash: Mapped[str | None] = mapped_column(String(64))
    stream_key_rotated_at: Mapped[datetime | None]
    peak_viewers: Mapped[int] = mapped_column(default=0)
    hearts_total: Mapped[int] = mapped_column(BigInteger, default=0)
    replay_video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"))
    # Who streams into the room (commerce/live/handover.py): the ingest node's id, its last
    # heartbeat, and when its connection dropped. A room outlives its ingest process: another
    # process may take it over while the node is silent or the room waits out its grace.
    ingest_node: Mapped[str | None] = mapped_column(String(80))
    ingest_seen_at: Mapped[datetime | None]
    ingest_dropped_at: Mapped[datetime | None]
    # The recording's parts as [{"started_at": ISO UTC, "duration_ms": n}]: the replay leaves out
    # the gaps between ingest connections and the wait before the first one.
    media_timeline: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # Room settings, changed by the creator or a moderator.
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    keyword_filter: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Bumped by every pin change: serialises concurrent pins and lets clients drop stale events.
    pins_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    creator: Mapped[User] = relationship()
    cover: Mapped[StoredObject | None] = relationship()
    shelf: Mapped[list[LiveShelfItem]] = relationship(
        order_by="LiveShelfItem.position", cascade="all, delete-orphan"
    )

    @property
    def storage_prefix(self) -> str:
        return f"live/{self.public_id}/"


class LiveShelfItem(db.Model):
    """A featured product of the room, in the order the creator chose."""

    __tablename__ = "live_shelf_items"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship()


class LivePin(db.Model):
    """A product shown over the stream from pinned_at until unpinned_at: the replay timeline."""

    __tablename__ = "live_pins"
    __table_args__ = (
        Index("ix_live_pins_room_open", "room_id", "unpinned_at"),
        CheckConstraint(
            "unpinned_at IS NULL OR unpinned_at >= pinned_at", name="unpinned_after_pinned"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    pinned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pinned_at: Mapped[datetime]
    unpinned_at: Mapped[datetime | None]
    # Closed by the show's end rather than by the host: the replay keeps it up to its last frame,
    # since the recording runs on past unpinned_at by the chunks still in flight.
    closed_by_end: Mapped[bool] = mapped_column(default=False, server_default=false())

    product: Mapped[Product] = relationship()


class LiveModerator(db.Model):
    __tablename__ = "live_moderators"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class LiveChatMessage(db.Model):
    """Stored as typed (escaped on output); a deletion hides it but keeps who did it."""

    __tablename__ = "live_chat_messages"
    __table_args__ = (
        Index("ix_live_chat_room_id", "room_id", "id"),
        Index("ix_live_chat_room_author_created", "room_id", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The author's role when posting: decides the badge and whether links render.
    author_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class LiveMute(db.Model):
    __tablename__ = "live_mutes"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    until: Mapped[datetime]
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class LiveBan(db.Model):
    __tablename__ = "live_bans"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiveFlashSale(db.Model):
    """A flash sale (orders' FlashSale, with its price, window and stock) started from a room."""

    __tablename__ = "live_flash_sales"

    flash_sale_id: Mapped[int] = mapped_column(ForeignKey("flash_sales.id"), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), index=True)
    pin_id: Mapped[int] = mapped_column(ForeignKey("live_pins.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    flash_sale: Mapped[FlashSale] = relationship("FlashSale")


class LiveMinute(db.Model):
    """Per-minute counters for the dashboard, added to by the fan-out task."""

    __tablename__ = "live_minutes"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    peak_viewers: Mapped[int] = mapped_column(default=0)
    hearts: Mapped[int] = mapped_column(default=0)


class LiveProductClick(db.Model):
    """Taps on a product card in the room, per minute."""

    __tablename__ = "live_product_clicks"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    clicks: Mapped[int] = mapped_column(default=0)


class LiveReminder(db.Model):
    """One reminder: the primary key makes a second impossible, however many taps race."""

    __tablename__ = "live_reminders"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

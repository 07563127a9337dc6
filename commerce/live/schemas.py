"""What the live-room endpoints and Socket.IO events accept and return."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, field_validator

from commerce.flashsales.schemas import FlashSaleOut
from commerce.validation import BigInt, Schema
from commerce.videos.schemas import CreatorOut, ProductCard

PUBLIC_ID = r"^[A-Za-z0-9_-]{1,24}$"
MAX_SHELF = 50


def _naive_utc(value: datetime | None) -> datetime | None:
    """Times are stored as naive UTC like every time in the app; no zone means UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class RoomIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    scheduled_at: datetime | None = None
    featured_product_ids: list[int] = Field(
        default_factory=list, max_length=MAX_SHELF, description="The shelf, in order."
    )

    _utc = field_validator("scheduled_at")(_naive_utc)


class RoomRef(Schema):
    """The room a Socket.IO event is about."""

    room: str = Field(pattern=PUBLIC_ID)


class ProductRefIn(Schema):
    product_id: int = Field(ge=1)


class RoomProductIn(RoomRef, ProductRefIn):
    pass


class LiveFlashSaleIn(Schema):
    product_id: int = Field(ge=1)
    price_minor: BigInt = Field(ge=0, le=10**12)
    duration_seconds: int = Field(ge=10, le=24 * 3600)
    starts_in_seconds: int = Field(default=0, ge=0, le=24 * 3600)
    quantity: int = Field(ge=1, le=10_000_000)
    per_buyer_limit: int | None = Field(default=None, ge=1, le=10_000_000)


class RoomFlashSaleIn(RoomRef, LiveFlashSaleIn):
    pass


class ChatIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=300)


class RoomChatIn(RoomRef, ChatIn):
    pass


class MessageRefIn(RoomRef):
    message_id: int = Field(ge=1)


class UserRefIn(Schema):
    user_id: int = Field(ge=1)


class MuteIn(UserRefIn):
    seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)


class RoomMuteIn(RoomRef, MuteIn):
    pass


class RoomUserIn(RoomRef, UserRefIn):
    pass


class SettingsIn(Schema):
    slow_mode_seconds: int | None = Field(default=None, ge=0, le=3600)
    keyword_filter: list[str] | None = Field(default=None, max_length=200)

    @field_validator("keyword_filter")
    @classmethod
    def short_keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(len(k) > 40 for k in value):
            raise ValueError(_l("Keywords are at most 40 characters."))
        return value


class RoomSettingsIn(RoomRef, SettingsIn):
    pass


class HeartsIn(Schema):
    count: int = Field(default=1, ge=1, le=50)


class RoomHeartsIn(RoomRef, HeartsIn):
    pass


# Out ----------------------------------------------------------------------------------------------


class PermissionsOut(Schema):
    role: str
    can_chat: bool
    can_pin: bool
    can_moderate: bool
    can_manage: bool
    muted_until: datetime | None
    banned: bool


class SettingsOut(Schema):
    slow_mode_seconds: int
    keyword_filter: list[str] | None = Field(description="Only staff see the filter.")


class RoomOut(Schema):
    id: str
    title: str
    description: str
    state: str
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    cover_url: str | None
    creator: CreatorOut
    shelf: list[ProductCard]
    peak_viewers: int
    hearts: BigInt
    replay_video_id: str | None
    has_stream_key: bool
    url: str


class RoomPage(Schema):
    items: list[RoomOut]


class LiveFlashOut(FlashSaleOut):
    phase: str
    seconds_to_start: float
    seconds_left: float


class LivePinOut(Schema):
    id: int
    product: ProductCard
    pinned_at: datetime
    unpinned_at: datetime | None
    flash: LiveFlashOut | None


class LivePinsOut(Schema):
    room: str
    version: int
    pins: list[LivePinOut]
    # The shelf's products on a flash sale now or next (a pin's is also in its `flash`).
    shelf_flashes: list[LiveFlashOut] = Field(default_factory=list)
    server_now: datetime


class PinHistoryOut(Schema):
    """The replay timeline: offsets from the start of the show."""

    room: str
    started_at: datetime | None
    pins: list[LivePinOut]


class ChatMessageOut(Schema):
    id: int
    room: str
    author: CreatorOut
    author_role: str
    text: str = Field(description="As typed: put it in the page with textContent.")
    html: str = Field(description="Escaped, links clickable only in staff messages.")
    created_at: datetime


class ChatPage(Schema):
    items: list[ChatMessageOut]


class StreamKeyOut(Schema):
    stream_key: str = Field(description="Shown once: only its hash is kept.")
    rotated_at: datetime


class SnapshotOut(Schema):
    """Everything a client needs to draw the room; events then keep it current."""

    room: RoomOut
    pins: LivePinsOut
    chat: list[ChatMessageOut]
    viewers: int
    hearts: BigInt
    settings: SettingsOut
    permissions: PermissionsOut
    server_now: datetime


class MuteOut(Schema):
    user_id: int
    until: datetime


class ModeratorList(Schema):
    items: list[CreatorOut]


class ClickOut(Schema):
    ok: bool


class DashboardPoint(Schema):
    minute: datetime
    viewers: int
    hearts: int
    chat_messages: int
    product_clicks: int
    orders: int
    gmv_minor: dict[str, int] = Field(description="Paid amount per currency, in minor units.")


class DashboardProduct(Schema):
    product_id: int
    title: str
    currency: str
    clicks: int
    orders: int
    units: int
    gmv_minor: int
    pinned_seconds: int


class DashboardOut(Schema):
    room: str
    state: str
    current_viewers: int
    peak_viewers: int
    hearts: BigInt
    chat_messages: int
    chat_per_minute: float
    product_clicks: int
    orders: int
    gmv_minor: dict[str, int]
    products: list[DashboardProduct]
    series: list[DashboardPoint]


def ack_ok(**data: Any) -> dict[str, Any]:
    return {"ok": True, **data}

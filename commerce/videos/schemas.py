"""What the video endpoints accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import ConfigDict, Field, field_validator, model_validator

from commerce.flashsales.schemas import CardFlashOut
from commerce.validation import BigInt, Schema


class UploadIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=255)
    size: BigInt = Field(ge=0, description="Total size in bytes.")

    @field_validator("size")
    @classmethod
    def not_empty(cls, value: int) -> int:
        if value == 0:
            raise ValueError(_l("The file is empty."))
        return value


class UploadOut(Schema):
    id: str
    filename: str
    size: BigInt
    received: BigInt
    chunk_size: int
    video_id: str | None


class VideoEditIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=2000)


class CoverIn(Schema):
    cover_ms: int = Field(ge=0)


class PinIn(Schema):
    product_id: int
    start_ms: int = Field(ge=0)
    end_ms: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def ends_after_start(self) -> PinIn:
        if self.end_ms is not None and self.end_ms <= self.start_ms:
            raise ValueError(_l("end_ms must be after start_ms."))
        return self


class CardRatingOut(Schema):
    """A product's reviews in short, as cards show them: "★ 4.6 (128)"."""

    average: float = Field(description="Mean stars of visible reviews, one decimal")
    count: int


class ProductCard(Schema):
    id: int
    title: str
    price_display: str
    price_minor: int
    currency: str
    image_url: str | None
    url: str
    flash: CardFlashOut | None = None
    rating: CardRatingOut | None = Field(default=None, description="None before any review")


class PinOut(Schema):
    id: int
    start_ms: int
    end_ms: int | None
    product: ProductCard


class CreatorOut(Schema):
    id: int
    display_name: str
    avatar_url: str | None
    url: str
    followable: bool = Field(default=False, description="A creator or shop one can follow.")
    following: bool = Field(default=False, description="Whether you follow them.")


class SpriteOut(Schema):
    url: str
    tiles: int
    interval_ms: int


class VideoOut(Schema):
    id: str
    title: str
    description: str
    state: str
    playable: bool
    progress: int
    error: str | None
    duration_ms: int
    width: int
    height: int
    cover_ms: int | None
    poster_url: str | None
    master_url: str | None
    fallback_url: str | None
    sprite: SpriteOut | None
    view_count: int
    like_count: int = 0
    favourite_count: int = 0
    liked: bool = Field(default=False, description="Whether you like it.")
    favourited: bool = Field(default=False, description="Whether it is in your favourites.")
    product_count: int = Field(default=0, description="Products on sale pinned to it.")
    published: bool
    published_at: datetime | None
    url: str
    creator: CreatorOut
    pins: list[PinOut]


class FeedQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    creator_id: int | None = None
    limit: int = Field(default=10, ge=1, le=30)
    tab: Literal["latest", "for_you", "following"] = Field(
        default="latest",
        description="latest: newest first; for_you: ranked by engagement with time decay; "
        "following: newest from the accounts you follow (log in first). "
        "creator_id always lists that creator's newest.",
    )


class ReactionOut(Schema):
    video_id: str
    liked: bool
    favourited: bool
    like_count: int
    favourite_count: int


class FavouritesQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=50)


class MyVideosQuery(Schema):
    limit: int = Field(default=50, ge=1, le=100)


class VideoPage(Schema):
    items: list[VideoOut]
    next_cursor: str | None


class ViewCountOut(Schema):
    view_count: int


class WatchIn(Schema):
    """A beacon from the feed's player: milliseconds played since its last beacon."""

    view: str = Field(
        min_length=8,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The player's key for this viewing (random, one per play of the video)",
    )
    ms: int = Field(ge=0, le=3_600_000, description="Milliseconds played since the last beacon")


class WatchOut(Schema):
    credited_ms: int = Field(description="What counted (capped at the video's length per viewing)")

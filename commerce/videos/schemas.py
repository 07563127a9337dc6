"""What the video endpoints accept and return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UploadIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=1, description="Total size in bytes.")


class UploadOut(BaseModel):
    id: str
    filename: str
    size: int
    received: int
    chunk_size: int
    video_id: str | None


class VideoEditIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=2000)


class CoverIn(BaseModel):
    cover_ms: int = Field(ge=0)


class PinIn(BaseModel):
    product_id: int
    start_ms: int = Field(ge=0)
    end_ms: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def ends_after_start(self) -> PinIn:
        if self.end_ms is not None and self.end_ms <= self.start_ms:
            raise ValueError("end_ms must be after start_ms")
        return self


class ProductCard(BaseModel):
    id: int
    title: str
    price_display: str
    price_minor: int
    currency: str
    image_url: str | None
    url: str


class PinOut(BaseModel):
    id: int
    start_ms: int
    end_ms: int | None
    product: ProductCard


class CreatorOut(BaseModel):
    id: int
    display_name: str
    avatar_url: str | None
    url: str


class SpriteOut(BaseModel):
    url: str
    tiles: int
    interval_ms: int


class VideoOut(BaseModel):
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
    published: bool
    published_at: datetime | None
    url: str
    creator: CreatorOut
    pins: list[PinOut]


class FeedQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=200)
    creator_id: int | None = None
    limit: int = Field(default=10, ge=1, le=30)


class MyVideosQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=100)


class VideoPage(BaseModel):
    items: list[VideoOut]
    next_cursor: str | None


class ViewCountOut(BaseModel):
    view_count: int

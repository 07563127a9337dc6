"""Review API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from commerce.reviews.rules import MAX_PHOTOS, MAX_REPLY, MAX_STARS, MAX_TEXT, MIN_STARS
from commerce.validation import Schema


class ReviewIn(Schema):
    """The text fields of a new review (multipart: photos ride beside them as 'photos')."""

    model_config = ConfigDict(str_strip_whitespace=True)

    stars: int = Field(ge=MIN_STARS, le=MAX_STARS)
    text: str = Field(default="", max_length=MAX_TEXT)


class ReviewEditIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    stars: int | None = Field(default=None, ge=MIN_STARS, le=MAX_STARS)
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    remove_photo_ids: list[int] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ReplyIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_REPLY)


class ReviewsQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)


class PhotoOut(Schema):
    id: int
    url: str


class ReviewAuthorOut(Schema):
    id: int
    display_name: str
    avatar_url: str | None


class ReplyOut(Schema):
    text: str
    replied_at: datetime


class ReviewOut(Schema):
    id: int
    product_id: int
    order_line_id: int
    stars: int
    text: str
    author: ReviewAuthorOut
    photos: list[PhotoOut]
    created_at: datetime
    edited_at: datetime | None
    editable_until: datetime
    reply: ReplyOut | None
    mine: bool
    can_edit: bool
    can_reply: bool


class RatingSummaryOut(Schema):
    average: float | None
    count: int
    histogram: dict[str, int] = Field(description="Visible reviews per star, '5' down to '1'")


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None
    summary: RatingSummaryOut | None = Field(default=None, description="On the first page")

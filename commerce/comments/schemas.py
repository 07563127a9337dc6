"""Comment API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from commerce.comments.rules import MAX_LENGTH, MAX_MENTIONS
from commerce.validation import Schema


class CommentIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_LENGTH)
    parent_id: int | None = Field(default=None, ge=1, description="Answer this comment")
    mention_ids: list[int] = Field(
        default_factory=list,
        max_length=MAX_MENTIONS,
        description="Users picked for @mentions; each one's @name must be in the text",
    )


class CommentsQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)


class CountsQuery(Schema):
    videos: str = Field(min_length=1, max_length=1000, description="Video ids, comma separated")


class PersonOut(Schema):
    id: int
    display_name: str
    avatar_url: str | None
    url: str


class Segment(Schema):
    text: str
    user_id: int | None = None  # set on a mention: link to the user


class CommentOut(Schema):
    id: int
    video_id: str
    parent_id: int | None
    author: PersonOut | None  # None once removed
    reply_to: PersonOut | None
    state: str = Field(description="visible, held (pending review), deleted or hidden")
    text: str
    segments: list[Segment]
    like_count: int
    liked: bool
    reply_count: int
    created_at: datetime
    mine: bool
    can_delete: bool
    can_approve: bool


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None
    total: int | None = Field(
        default=None, description="Visible comments on the video (first page)"
    )


class LikeOut(Schema):
    liked: bool
    like_count: int


class CountsOut(Schema):
    counts: dict[str, int]

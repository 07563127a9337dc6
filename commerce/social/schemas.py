"""What the follow endpoints accept and return."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from commerce.validation import Schema


class FollowOut(Schema):
    user_id: int
    following: bool = Field(description="Whether you follow this account now.")
    follower_count: int


class ProfileCardOut(Schema):
    """A creator or shop as the public sees it, with the viewer's follow state."""

    id: int
    display_name: str
    bio: str
    avatar_url: str | None
    url: str
    is_creator: bool
    is_merchant: bool
    follower_count: int
    following_count: int
    following: bool = Field(description="Whether you follow this account (false when anonymous).")


class FollowedOut(Schema):
    id: int
    display_name: str
    avatar_url: str | None
    url: str
    is_creator: bool
    is_merchant: bool
    followed_at: datetime


class FollowingQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=50)


class FollowingPage(Schema):
    items: list[FollowedOut]
    next_cursor: str | None

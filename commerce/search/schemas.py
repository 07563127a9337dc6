"""What the search endpoint accepts and returns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from commerce.search import rules
from commerce.validation import Schema

Kind = Literal["video", "creator", "product"]


class SearchQuery(Schema):
    q: str = Field(
        default="",
        max_length=1000,
        description=f"Words to find, Chinese or Latin; 1 to {rules.MAX_QUERY_CHARS} characters."
        " Every word must match; Latin words match as prefixes.",
    )
    kind: Kind = Field(default="video", description="What to search: videos, creators or products.")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=50)


class SearchHitOut(Schema):
    """One result: a published video, a creator or a product on sale."""

    kind: Kind
    id: str = Field(description="The video's public id, or the creator's or product's id.")
    title: str
    subtitle: str = Field(description="The creator of a video, a creator's bio, a product's shop.")
    url: str = Field(description="The video in the feed, the creator's page, the product page.")
    image_url: str | None
    price_minor: int | None = None
    currency: str | None = None
    price_display: str | None = None


class SearchPage(Schema):
    q: str
    kind: Kind
    items: list[SearchHitOut]
    next_cursor: str | None

"""Which content sold a line: its creator earns the content fee only if it featured the product.

A line names the content the buyer came from (`source_kind`, `source_key`): a published video, or
a live room that went live. The creator is credited only when that content featured the product:
a video pins it (a product card at some moment of the video, replays included, whose pins are
the show's), or the room had it on its shelf or pinned it during the show. A source that did
not feature the product (a buyer, or a script, naming any popular video as the source of an
unrelated purchase) gives the line no content creator; sharer credit does not depend on it.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from commerce.live.models import LivePin, LiveRoom, LiveShelfItem
from commerce.videos.models import Video, VideoPin


def content_creator(
    session: Session, kind: str | None, key: str | None, product_id: int
) -> int | None:
    """The creator of the content that featured `product_id`, or None (one query)."""
    if not key:
        return None
    if kind == "live":
        featured = exists().where(
            LiveShelfItem.room_id == LiveRoom.id, LiveShelfItem.product_id == product_id
        ) | exists().where(LivePin.room_id == LiveRoom.id, LivePin.product_id == product_id)
        creator = session.scalar(
            select(LiveRoom.creator_id).where(
                LiveRoom.public_id == key, LiveRoom.started_at.is_not(None), featured
            )
        )
        return cast(int | None, creator)
    if kind == "video":
        creator = session.scalar(
            select(Video.creator_id).where(
                Video.public_id == key,
                Video.published_at.is_not(None),
                exists().where(VideoPin.video_id == Video.id, VideoPin.product_id == product_id),
            )
        )
        return cast(int | None, creator)
    return None

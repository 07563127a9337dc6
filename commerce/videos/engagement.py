"""Likes, favourites, purchases and the For-you score they feed (commerce/videos/rules.py);
watch time comes in through commerce/videos/watch.py.

Counts stay right under any interleaving: a like row is inserted unless present (its primary
key decides races) and the counter moves only when this transaction really inserted or deleted
it, by one atomic UPDATE. That UPDATE also locks the video's row until the commit, so the score
written next is computed from counters no one else can change meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.locking import insert_ignore
from commerce.pagination import decode_cursor, encode_cursor
from commerce.videos import rules
from commerce.videos.models import Video, VideoFavourite, VideoLike, VideoPin

COUNTERS: dict[type[Any], Any] = {
    VideoLike: Video.like_count,
    VideoFavourite: Video.favourite_count,
}


def engagement_of(session: Session, video: Video) -> rules.Engagement:
    on_sale = session.scalar(
        select(
            exists()
            .where(VideoPin.video_id == video.id, VideoPin.product_id == Product.id)
            .where(Product.is_active.is_(True))
        )
    )
    return rules.Engagement(
        views=video.view_count,
        likes=video.like_count,
        favourites=video.favourite_count,
        purchases=video.purchase_count,
        comments=video.comment_count,
        watch_ms=video.watch_ms,
        has_products=bool(on_sale),
    )


def refresh_rank(session: Session, video: Video) -> None:
    """Re-score the video from its current counters (NULL while unpublished)."""
    session.refresh(
        video,
        [
            "view_count",
            "like_count",
            "favourite_count",
            "purchase_count",
            "watch_ms",
            "published_at",
        ],
    )
    score = None
    if video.published_at is not None:
        score = rules.rank_score(engagement_of(session, video), video.published_at)
    session.execute(update(Video).where(Video.id == video.id).values(rank_score=score))
    set_committed_value(video, "rank_score", score)  # already written: no second UPDATE


def _react(session: Session, model: type[Any], user: User, video: Video, now: datetime) -> bool:
    added = insert_ignore(
        session, model, {"user_id": user.id, "video_id": video.id, "created_at": now}
    )
    if added:
        counter = COUNTERS[model]
        session.execute(update(Video).where(Video.id == video.id).values({counter: counter + 1}))
        refresh_rank(session, video)
    return added


def _unreact(session: Session, model: type[Any], user: User, video: Video) -> bool:
    removed = (
        session.execute(
            delete(model)
            .where(model.user_id == user.id, model.video_id == video.id)
            .returning(model.video_id)
        ).first()
        is not None
    )
    if removed:
        counter = COUNTERS[model]
        session.execute(update(Video).where(Video.id == video.id).values({counter: counter - 1}))
        refresh_rank(session, video)
    return removed


def do_like(session: Session, user: User, video: Video, now: datetime) -> bool:
    return _react(session, VideoLike, user, video, now)


def do_unlike(session: Session, user: User, video: Video) -> bool:
    return _unreact(session, VideoLike, user, video)


def do_favourite(session: Session, user: User, video: Video, now: datetime) -> bool:
    return _react(session, VideoFavourite, user, video, now)


def do_unfavourite(session: Session, user: User, video: Video) -> bool:
    return _unreact(session, VideoFavourite, user, video)


def do_record_purchases(session: Session, quantities: dict[str, int]) -> None:
    """Paid order lines bought from videos (public id -> units) raise those videos' scores."""
    for public_id, units in sorted(quantities.items()):  # a fixed order: no lock cycles
        video = session.scalar(select(Video).where(Video.public_id == public_id))
        if video is None or units <= 0:
            continue
        session.execute(
            update(Video)
            .where(Video.id == video.id)
            .values(purchase_count=Video.purchase_count + units)
        )
        refresh_rank(session, video)


def reactions_of(
    session: Session, user: User | None, video_ids: Iterable[int]
) -> tuple[set[int], set[int]]:
    """(liked, favourited) among these videos, for the viewer, in two indexed queries."""
    ids = set(video_ids)
    if user is None or not ids:
        return set(), set()

    def among(model: type[Any]) -> set[int]:
        return set(
            session.scalars(
                select(model.video_id).where(model.user_id == user.id, model.video_id.in_(ids))
            )
        )

    return among(VideoLike), among(VideoFavourite)


def favourites_page(
    session: Session, user: User, *, cursor: str | None, limit: int
) -> tuple[list[Video], str | None]:
    """The user's favourite published videos, most recently saved first (keyset on time, id)."""
    query = (
        select(Video, VideoFavourite.created_at)
        .join(VideoFavourite, VideoFavourite.video_id == Video.id)
        .where(VideoFavourite.user_id == user.id, Video.published_at.is_not(None))
    )
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                VideoFavourite.created_at < stamp,
                and_(VideoFavourite.created_at == stamp, VideoFavourite.video_id < ident),
            )
        )
    rows = list(
        session.execute(
            query.order_by(VideoFavourite.created_at.desc(), VideoFavourite.video_id.desc()).limit(
                limit + 1
            )
        )
    )
    next_cursor = None
    if len(rows) > limit:
        video, saved_at = rows[limit - 1]
        next_cursor = encode_cursor(saved_at, video.id)
    return [row[0] for row in rows[:limit]], next_cursor


def do_count_comments(session: Session, video: Video, by: int) -> None:
    """A comment became visible to others (+1) or stopped being (-1): the count and the score."""
    session.execute(
        update(Video).where(Video.id == video.id).values(comment_count=Video.comment_count + by)
    )
    refresh_rank(session, video)

"""Video use cases after upload: edit, cover, pins, publish, feed, views, delete."""

from __future__ import annotations

import base64
import math
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.models import User
from commerce.catalog.models import Product, ProductImage
from commerce.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from commerce.jobs.runner import enqueue
from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify
from commerce.social.services import followee_ids_query
from commerce.validation import INT32_MAX
from commerce.videos.engagement import refresh_rank
from commerce.videos.models import READY, Upload, Video, VideoPin
from commerce.videos.schemas import PinIn, VideoEditIn

MAX_PINS = 30


def do_edit_video(video: Video, data: VideoEditIn) -> Video:
    video.title = data.title
    video.description = data.description
    return video


def do_set_cover(session: Session, video: Video, cover_ms: int) -> Video:
    """Choose the poster frame; the poster is re-rendered by a job."""
    if video.state != READY:
        raise Conflict(_("Wait until processing is finished to choose a cover."))
    if cover_ms >= video.duration_ms:
        raise ValidationFailed(
            _("The cover must be a moment inside the video."),
            fields={"cover_ms": _("Beyond the end of the video.")},
        )
    video.cover_ms = cover_ms
    enqueue(session, "video.poster", {"video_id": video.id, "cover_ms": cover_ms})
    return video


def check_pin_times(start_ms: int, end_ms: int | None, duration_ms: int) -> None:
    if duration_ms and start_ms >= duration_ms:
        raise ValidationFailed(
            _("A pin must start before the video ends."),
            fields={"start_ms": _("Beyond the end of the video.")},
        )
    if end_ms is not None and duration_ms and end_ms > duration_ms:
        raise ValidationFailed(
            _("A pin must end by the end of the video."),
            fields={"end_ms": _("Beyond the end of the video.")},
        )


def do_add_pin(session: Session, video: Video, data: PinIn) -> VideoPin:
    """Pin any active product at a moment of the creator's own video."""
    product = session.get(Product, data.product_id)
    if product is None or not product.is_active:
        raise ValidationFailed(
            _("That product does not exist or is not on sale."),
            fields={"product_id": _("Unknown product.")},
        )
    check_pin_times(data.start_ms, data.end_ms, video.duration_ms)
    if len(video.pins) >= MAX_PINS:
        raise ValidationFailed(_("A video can have at most %(n)s pins.", n=MAX_PINS))
    pin = VideoPin(product=product, start_ms=data.start_ms, end_ms=data.end_ms)
    video.pins.append(pin)
    session.flush()
    refresh_rank(session, video)  # products on sale lift the For-you score
    return pin


def do_remove_pin(session: Session, video: Video, pin_id: int) -> None:
    pin = next((p for p in video.pins if p.id == pin_id), None)
    if pin is None:
        raise NotFound(_("This pin does not exist."))
    video.pins.remove(pin)
    session.flush()
    refresh_rank(session, video)


def do_publish(session: Session, video: Video, now: datetime) -> Video:
    if not video.playable:
        raise Conflict(_("The video can be published once it is playable."), code="not_playable")
    if not video.title.strip():
        raise ValidationFailed(
            _("Give the video a title before publishing."), fields={"title": _("Required.")}
        )
    if video.published_at is None:
        video.published_at = now
        do_notify(  # followers hear of it once: republishing after unpublish tells nobody again
            session,
            kind=notify_rules.VIDEO,
            event_key=f"video:{video.id}",
            now=now,
            actor_id=video.creator_id,
            params={
                "title": video.title,
                "endpoint": "videos.watch",
                "args": {"public_id": video.public_id},
            },
            followers_of=video.creator_id,
        )
    session.flush()
    refresh_rank(session, video)
    return video


def do_unpublish(session: Session, video: Video) -> Video:
    video.published_at = None
    session.flush()
    refresh_rank(session, video)
    return video


# What a feed page shows of each video, loaded for the whole page in a few queries instead of
# several per video (creator and avatar, poster, sprite, pins with their products' images).
FEED_LOAD = (
    selectinload(Video.creator).selectinload(User.avatar),
    selectinload(Video.poster),
    selectinload(Video.sprite),
    selectinload(Video.pins)
    .selectinload(VideoPin.product)
    .selectinload(Product.images)
    .selectinload(ProductImage.object),
)


def encode_cursor(video: Video) -> str:
    assert video.published_at is not None
    raw = f"{video.published_at.isoformat()}|{video.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _sep, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            _("That page cursor is not valid."), fields={"cursor": _("Invalid.")}
        ) from exc


def feed_page(
    session: Session, *, cursor: str | None, limit: int, creator_id: int | None = None
) -> tuple[list[Video], str | None]:
    """Published videos, newest first, by keyset pagination (stable under new publishes)."""
    query = select(Video).options(*FEED_LOAD).where(Video.published_at.is_not(None))
    if creator_id is not None:
        query = query.where(Video.creator_id == creator_id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(Video.published_at < stamp, and_(Video.published_at == stamp, Video.id < ident))
        )
    rows = list(
        session.scalars(query.order_by(Video.published_at.desc(), Video.id.desc()).limit(limit + 1))
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def encode_rank_cursor(video: Video) -> str:
    assert video.rank_score is not None
    return base64.urlsafe_b64encode(f"{video.rank_score!r}|{video.id}".encode()).decode()


def decode_rank_cursor(cursor: str) -> tuple[float, int]:
    try:
        score, _sep, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        value, number = float(score), int(ident)
    except (ValueError, UnicodeDecodeError):
        value, number = math.nan, 0
    if not math.isfinite(value) or not 0 < number <= INT32_MAX:
        raise ValidationFailed(
            _("That page cursor is not valid."), fields={"cursor": _("Invalid.")}
        )
    return value, number


def for_you_page(
    session: Session, *, cursor: str | None, limit: int
) -> tuple[list[Video], str | None]:
    """Published videos by their stored For-you score (rules.py), keyset on (score, id).

    A score that changes while someone pages can show a video twice or skip it; the feed drops
    repeats, and a skipped video turns up on the next visit.
    """
    query = select(Video).options(*FEED_LOAD).where(Video.rank_score.is_not(None))
    if cursor:
        score, ident = decode_rank_cursor(cursor)
        query = query.where(
            or_(Video.rank_score < score, and_(Video.rank_score == score, Video.id < ident))
        )
    rows = list(
        session.scalars(query.order_by(Video.rank_score.desc(), Video.id.desc()).limit(limit + 1))
    )
    next_cursor = encode_rank_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def following_feed_page(
    session: Session, user: User, *, cursor: str | None, limit: int
) -> tuple[list[Video], str | None]:
    """Published videos of the accounts the user follows, newest first (keyset)."""
    query = (
        select(Video)
        .options(*FEED_LOAD)
        .where(Video.published_at.is_not(None), Video.creator_id.in_(followee_ids_query(user.id)))
    )
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(Video.published_at < stamp, and_(Video.published_at == stamp, Video.id < ident))
        )
    rows = list(
        session.scalars(query.order_by(Video.published_at.desc(), Video.id.desc()).limit(limit + 1))
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def feed_tab(
    session: Session,
    tab: str,
    user: User | None,
    *,
    cursor: str | None,
    limit: int,
    creator_id: int | None = None,
) -> tuple[list[Video], str | None]:
    """One page of a feed tab; a creator's own list is always newest first."""
    if creator_id is not None or tab == "latest":
        return feed_page(session, cursor=cursor, limit=limit, creator_id=creator_id)
    if tab == "for_you":
        return for_you_page(session, cursor=cursor, limit=limit)
    if user is None:
        raise NotAuthenticated(_("Log in to see videos from the accounts you follow."))
    return following_feed_page(session, user, cursor=cursor, limit=limit)


def products_in_videos(session: Session, creator_id: int, *, limit: int) -> list[Product]:
    """Products on sale that the creator pins in published videos, most recently published
    first (what their page offers besides the videos)."""
    newest = (
        select(VideoPin.product_id, func.max(Video.published_at).label("at"))
        .join(Video, Video.id == VideoPin.video_id)
        .where(Video.creator_id == creator_id, Video.published_at.is_not(None))
        .group_by(VideoPin.product_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Product)
            .join(newest, newest.c.product_id == Product.id)
            .where(Product.is_active.is_(True))
            .order_by(newest.c.at.desc(), Product.id.desc())
            .limit(limit)
        )
    )


def my_videos(session: Session, user: User, limit: int) -> list[Video]:
    return list(
        session.scalars(
            select(Video)
            .where(Video.creator_id == user.id)
            .order_by(Video.created_at.desc(), Video.id.desc())
            .limit(limit)
        )
    )


def do_count_view(session: Session, video: Video) -> int:
    """One atomic increment, so concurrent viewers are all counted."""
    session.execute(
        update(Video).where(Video.id == video.id).values(view_count=Video.view_count + 1)
    )
    refresh_rank(session, video)
    return video.view_count


def do_delete_video(session: Session, video: Video) -> str:
    """Delete the rows; returns the storage prefix to clear once the deletion is committed."""
    prefix = video.storage_prefix
    session.execute(delete(Upload).where(Upload.video_id == video.id))
    objects = [obj for obj in (video.source, video.poster, video.sprite) if obj is not None]
    session.delete(video)
    session.flush()  # the video row goes first: it references the objects
    for obj in objects:
        session.delete(obj)
    session.flush()
    return prefix

"""Videos as the API, the feed and the studio show them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.catalog.rules import rating_average
from commerce.files.services import key_url, object_url
from commerce.money import format_money
from commerce.social.services import followed_among, is_followable
from commerce.videos.engagement import reactions_of
from commerce.videos.models import OUT_OF_SPACE, Video, VideoPin
from commerce.videos.schemas import (
    CardFlashOut,
    CardRatingOut,
    CreatorOut,
    PinOut,
    ProductCard,
    SpriteOut,
    VideoOut,
)


def creator_out(user: User) -> CreatorOut:
    return CreatorOut(
        id=user.id,
        display_name=user.display_name,
        avatar_url=object_url(user.avatar),
        url=url_for("videos.creator_page", user_id=user.id),
        followable=is_followable(user),
    )


Flashes = Mapping[int, CardFlashOut]


def pin_out(pin: VideoPin, flashes: Flashes | None = None) -> PinOut:
    product = pin.product
    return PinOut(
        id=pin.id,
        start_ms=pin.start_ms,
        end_ms=pin.end_ms,
        product=product_card(product, (flashes or {}).get(product.id)),
    )


def pin_product_ids(videos: Iterable[Video]) -> set[int]:
    """The products pinned on these videos: whose flash sales their cards need."""
    return {pin.product_id for video in videos for pin in video.pins}


def product_card(product: Product, flash: CardFlashOut | None = None) -> ProductCard:
    """What a pinned card shows of a product, on videos and in live rooms."""
    return ProductCard(
        id=product.id,
        title=product.title,
        price_minor=product.price_minor,
        currency=product.currency,
        price_display=format_money(product.price_minor, product.currency),
        image_url=object_url(product.images[0].object) if product.images else None,
        url=url_for("catalog.product_page", product_id=product.id),
        flash=flash,
        rating=card_rating(product),
    )


def card_rating(product: Product) -> CardRatingOut | None:
    """From the product's own columns (kept by the reviews area): no query per card."""
    average = rating_average(product.review_count, product.review_star_sum)
    if average is None:
        return None
    return CardRatingOut(average=average, count=product.review_count)


def videos_for_viewer(
    session: Session,
    videos: Sequence[Video],
    viewer: User | None,
    *,
    flashes: Flashes | None = None,
) -> list[VideoOut]:
    """video_out for a page of videos, with what this viewer liked, saved and follows (three
    queries for the page, not three per video)."""
    liked, favourited = reactions_of(session, viewer, [v.id for v in videos])
    followed = followed_among(session, viewer, [v.creator_id for v in videos])
    out = []
    for video in videos:
        item = video_out(video, flashes=flashes)
        item.liked = video.id in liked
        item.favourited = video.id in favourited
        item.creator.following = video.creator_id in followed
        out.append(item)
    return out


def error_message(video: Video) -> str | None:
    """Why processing failed, in words: codes are translated, older free text is shown as is."""
    if video.error == OUT_OF_SPACE:
        return _(
            "The server ran out of disk space while processing this video. "
            "Please upload it again later."
        )
    return video.error


def error_message_for_creator(video: Video, default_locale: str) -> str | None:
    """error_message in the creator's language, for events sent outside any request."""
    with force_locale(video.creator.locale or default_locale):
        return error_message(video)


def video_out(video: Video, *, for_owner: bool = False, flashes: Flashes | None = None) -> VideoOut:
    """Viewers see pins of products on sale; the owner sees every pin.

    `flashes` (product id -> its flash sale on now or next) is read by the caller in one query
    for a whole page: a product on a flash sale shows it on every card.
    """
    pins = [p for p in video.pins if for_owner or p.product.is_active]
    sprite = None
    if video.sprite is not None:
        sprite = SpriteOut(
            url=object_url(video.sprite) or "",
            tiles=video.sprite_tiles,
            interval_ms=video.sprite_interval_ms,
        )
    return VideoOut(
        id=video.public_id,
        title=video.title,
        description=video.description,
        state=video.state,
        playable=video.playable,
        progress=video.progress,
        error=error_message(video) if for_owner else None,
        duration_ms=video.duration_ms,
        width=video.width,
        height=video.height,
        cover_ms=video.cover_ms,
        poster_url=object_url(video.poster),
        master_url=key_url(video.master_key) if video.playable else None,
        fallback_url=key_url(video.fallback_key),
        sprite=sprite,
        view_count=video.view_count,
        like_count=video.like_count,
        favourite_count=video.favourite_count,
        product_count=len({p.product_id for p in pins}),
        published=video.is_published,
        published_at=video.published_at,
        url=url_for("videos.watch", public_id=video.public_id),
        creator=creator_out(video.creator),
        pins=[pin_out(p, flashes) for p in pins],
    )

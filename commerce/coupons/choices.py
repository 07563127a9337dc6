"""What the coupon form offers to choose from: the shop's products, and the creators who sell
them (their videos pin them, their live rooms shelve or pin them) or whom the shop follows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.live.models import LivePin, LiveRoom, LiveShelfItem
from commerce.social.models import Follow
from commerce.videos.models import Video, VideoPin

LIMIT = 200


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


def shop_products(session: Session, merchant_id: int) -> list[Choice]:
    rows = session.execute(
        select(Product.id, Product.title)
        .where(Product.merchant_id == merchant_id, Product.is_active.is_(True))
        .order_by(Product.title, Product.id)
        .limit(LIMIT)
    )
    return [Choice(id, title) for id, title in rows]


def shop_creators(session: Session, merchant_id: int) -> list[Choice]:
    """Creators featuring the shop's products, and creators the shop follows."""
    own = select(Product.id).where(Product.merchant_id == merchant_id).scalar_subquery()
    ids = union(
        select(Video.creator_id)
        .join(VideoPin, VideoPin.video_id == Video.id)
        .where(VideoPin.product_id.in_(own)),
        select(LiveRoom.creator_id)
        .join(LiveShelfItem, LiveShelfItem.room_id == LiveRoom.id)
        .where(LiveShelfItem.product_id.in_(own)),
        select(LiveRoom.creator_id)
        .join(LivePin, LivePin.room_id == LiveRoom.id)
        .where(LivePin.product_id.in_(own)),
        select(Follow.followee_id).where(Follow.follower_id == merchant_id),
    ).subquery()
    rows = session.execute(
        select(User.id, User.display_name)
        .where(User.id.in_(select(ids.c[0])), User.is_creator.is_(True), User.id != merchant_id)
        .order_by(User.display_name, User.id)
        .limit(LIMIT)
    )
    return [Choice(id, name) for id, name in rows]

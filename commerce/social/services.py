"""Follow use cases: follow and unfollow (idempotent, race-safe), counts, the following list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from commerce.accounts.models import RateEvent, User
from commerce.accounts.services import count_recent
from commerce.errors import NotFound, RateLimited, ValidationFailed
from commerce.locking import insert_ignore
from commerce.pagination import decode_cursor, encode_cursor
from commerce.social.models import FirstFollow, Follow

SOCIAL_WINDOW = timedelta(minutes=10)
# Sent when a follow is made (not when repeated): notifications, a higher area, listens.
followed = Namespace().signal("followed")


def check_social_rate(session: Session, user: User, now: datetime, limit: int) -> None:
    """Follows, likes and favourites per account per window are capped: each is a write."""
    bucket = f"social:{user.id}"
    if count_recent(session, bucket, now - SOCIAL_WINDOW) >= limit:
        raise RateLimited(
            _("Too many follows and likes in a short time. Try again in a few minutes."),
            retry_after=int(SOCIAL_WINDOW.total_seconds()),
        )
    session.add(RateEvent(bucket=bucket, at=now))


def is_followable(user: User) -> bool:
    """Creators and shops (merchant accounts) have followers; plain viewers do not."""
    return user.is_creator or user.is_merchant


def access_followee(session: Session, user_id: int, *, leaving: bool = False) -> User:
    """A creator or shop to follow; to unfollow, any account (it may have stopped selling)."""
    user = session.get(User, user_id)
    if user is None or not (leaving or is_followable(user)):
        raise NotFound(_("There is no creator or shop with this id."))
    return user


def do_follow(session: Session, follower: User, followee: User, now: datetime) -> bool:
    """Follow; following again changes nothing. True when this call made the follow."""
    if follower.id == followee.id:
        raise ValidationFailed(_("You cannot follow yourself."), code="self_follow")
    made = insert_ignore(
        session, Follow, {"follower_id": follower.id, "followee_id": followee.id, "created_at": now}
    )
    if made:
        insert_ignore(
            session,
            FirstFollow,
            {"follower_id": follower.id, "followee_id": followee.id, "first_at": now},
        )
        followed.send(follower, session=session, followee=followee, now=now)
    return made


def do_unfollow(session: Session, follower: User, followee: User) -> bool:
    """Unfollow; unfollowing again changes nothing. True when this call removed the follow."""
    removed = session.execute(
        delete(Follow)
        .where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
        .returning(Follow.followee_id)
    )
    return removed.first() is not None


def follower_count(session: Session, user_id: int) -> int:
    """Counted on the index: exact under any interleaving of follows and unfollows."""
    query = select(func.count()).select_from(Follow).where(Follow.followee_id == user_id)
    return session.scalar(query) or 0


def following_count(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(Follow).where(Follow.follower_id == user_id)
    return session.scalar(query) or 0


def is_following(session: Session, follower: User | None, followee_id: int) -> bool:
    if follower is None:
        return False
    found = session.scalar(
        select(Follow.followee_id).where(
            Follow.follower_id == follower.id, Follow.followee_id == followee_id
        )
    )
    return found is not None


def followed_among(session: Session, follower: User | None, user_ids: Iterable[int]) -> set[int]:
    """Which of these accounts the viewer follows, in one query (the feed's "+" buttons)."""
    ids = set(user_ids)
    if follower is None or not ids:
        return set()
    return set(
        session.scalars(
            select(Follow.followee_id).where(
                Follow.follower_id == follower.id, Follow.followee_id.in_(ids)
            )
        )
    )


def following_page(
    session: Session, user: User, *, cursor: str | None, limit: int
) -> tuple[list[tuple[User, datetime]], str | None]:
    """Accounts the user follows, most recently followed first, by keyset on (time, id)."""
    query = (
        select(User, Follow.created_at)
        .join(Follow, Follow.followee_id == User.id)
        .where(Follow.follower_id == user.id)
    )
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                Follow.created_at < stamp,
                and_(Follow.created_at == stamp, Follow.followee_id < ident),
            )
        )
    rows = [
        (row[0], row[1])
        for row in session.execute(
            query.order_by(Follow.created_at.desc(), Follow.followee_id.desc()).limit(limit + 1)
        )
    ]
    next_cursor = None
    if len(rows) > limit:
        last_user, last_at = rows[limit - 1]
        next_cursor = encode_cursor(last_at, last_user.id)
    return rows[:limit], next_cursor


def followee_ids_query(user_id: int) -> Select[Any]:
    """A subquery of the accounts a user follows, for other areas' feeds."""
    return select(Follow.followee_id).where(Follow.follower_id == user_id)

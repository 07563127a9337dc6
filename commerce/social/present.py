"""Accounts as the follow endpoints and pages show them."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.files.services import object_url
from commerce.social import services
from commerce.social.schemas import FollowedOut, ProfileCardOut


def profile_url(user: User) -> str:
    """A creator's page shows their videos; a shop's, its products (a creator's links to both)."""
    if user.is_creator or not user.is_merchant:
        return url_for("videos.creator_page", user_id=user.id)
    return url_for("catalog.shop_page", user_id=user.id)


def profile_card(session: Session, user: User, viewer: User | None) -> ProfileCardOut:
    return ProfileCardOut(
        id=user.id,
        display_name=user.display_name,
        bio=user.bio or "",
        avatar_url=object_url(user.avatar),
        url=profile_url(user),
        is_creator=user.is_creator,
        is_merchant=user.is_merchant,
        follower_count=services.follower_count(session, user.id),
        following_count=services.following_count(session, user.id),
        following=services.is_following(session, viewer, user.id),
    )


def followed_out(user: User, followed_at: datetime) -> FollowedOut:
    return FollowedOut(
        id=user.id,
        display_name=user.display_name,
        avatar_url=object_url(user.avatar),
        url=profile_url(user),
        is_creator=user.is_creator,
        is_merchant=user.is_merchant,
        followed_at=followed_at,
    )

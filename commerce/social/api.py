"""Follow JSON API: follow and unfollow creators and shops, public profiles, your following list."""

from __future__ import annotations

from flask import Blueprint, current_app

from commerce.accounts.auth import current_user, require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.social import services
from commerce.social.present import followed_out, profile_card
from commerce.social.schemas import FollowingPage, FollowingQuery, FollowOut, ProfileCardOut
from commerce.timeutil import utcnow

bp = Blueprint("social_api", __name__, url_prefix="/api/v1")


def _follow_out(user_id: int, following: bool) -> FollowOut:
    return FollowOut(
        user_id=user_id,
        following=following,
        follower_count=services.follower_count(db.session, user_id),
    )


@endpoint(
    bp,
    "/users/<int:user_id>/follow",
    methods=("PUT",),
    summary="Follow a creator or shop (following again changes nothing)",
    response=FollowOut,
    errors=(404, 429),
)
def follow(user_id: int) -> FollowOut:
    user = require_user()
    followee = services.access_followee(db.session, user_id)
    now = utcnow()
    services.check_social_rate(db.session, user, now, current_app.config["SOCIAL_RATE_LIMIT"])
    services.do_follow(db.session, user, followee, now)
    db.session.commit()
    return _follow_out(followee.id, True)


@endpoint(
    bp,
    "/users/<int:user_id>/follow",
    methods=("DELETE",),
    summary="Stop following a creator or shop (unfollowing again changes nothing)",
    response=FollowOut,
    errors=(404, 429),
)
def unfollow(user_id: int) -> FollowOut:
    user = require_user()
    followee = services.access_followee(db.session, user_id, leaving=True)
    now = utcnow()
    services.check_social_rate(db.session, user, now, current_app.config["SOCIAL_RATE_LIMIT"])
    services.do_unfollow(db.session, user, followee)
    db.session.commit()
    return _follow_out(followee.id, False)


@endpoint(
    bp,
    "/users/<int:user_id>/profile",
    summary="A creator's or shop's public profile: bio, follower counts, whether you follow it",
    response=ProfileCardOut,
    auth=False,
    errors=(404,),
)
def profile(user_id: int) -> ProfileCardOut:
    followee = services.access_followee(db.session, user_id)
    return profile_card(db.session, followee, current_user())


@endpoint(
    bp,
    "/me/following",
    summary="The creators and shops you follow, most recently followed first",
    query=FollowingQuery,
    response=FollowingPage,
)
def my_following(query: FollowingQuery) -> FollowingPage:
    rows, cursor = services.following_page(
        db.session, require_user(), cursor=query.cursor, limit=query.limit
    )
    return FollowingPage(items=[followed_out(u, at) for u, at in rows], next_cursor=cursor)

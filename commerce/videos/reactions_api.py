"""Likes and favourites JSON API, your favourites list, and the player's watch-time beacons."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import Blueprint, current_app, request

from commerce.accounts.auth import current_user, require_user
from commerce.accounts.models import User
from commerce.apispec import endpoint, parse
from commerce.extensions import db
from commerce.social.services import check_social_rate
from commerce.timeutil import utcnow
from commerce.videos import engagement, watch
from commerce.videos.access import access_video_for_viewing
from commerce.videos.models import Video
from commerce.videos.present import videos_for_viewer
from commerce.videos.schemas import FavouritesQuery, ReactionOut, VideoPage, WatchIn, WatchOut

bp = Blueprint("reactions_api", __name__, url_prefix="/api/v1")


def _react(public_id: str, change: Callable[[User, Video], object]) -> ReactionOut:
    user = require_user()
    video = access_video_for_viewing(public_id, user)
    check_social_rate(db.session, user, utcnow(), current_app.config["SOCIAL_RATE_LIMIT"])
    change(user, video)
    db.session.commit()
    liked, favourited = engagement.reactions_of(db.session, user, [video.id])
    return ReactionOut(
        video_id=video.public_id,
        liked=video.id in liked,
        favourited=video.id in favourited,
        like_count=video.like_count,
        favourite_count=video.favourite_count,
    )


@endpoint(
    bp,
    "/videos/<public_id>/like",
    methods=("PUT",),
    summary="Like a video (liking again changes nothing)",
    response=ReactionOut,
    errors=(404, 429),
)
def like(public_id: str) -> ReactionOut:
    return _react(public_id, lambda u, v: engagement.do_like(db.session, u, v, utcnow()))


@endpoint(
    bp,
    "/videos/<public_id>/like",
    methods=("DELETE",),
    summary="Take back a like",
    response=ReactionOut,
    errors=(404, 429),
)
def unlike(public_id: str) -> ReactionOut:
    return _react(public_id, lambda u, v: engagement.do_unlike(db.session, u, v))


@endpoint(
    bp,
    "/videos/<public_id>/favourite",
    methods=("PUT",),
    summary="Add a video to your favourites (again changes nothing)",
    response=ReactionOut,
    errors=(404, 429),
)
def favourite(public_id: str) -> ReactionOut:
    return _react(public_id, lambda u, v: engagement.do_favourite(db.session, u, v, utcnow()))


@endpoint(
    bp,
    "/videos/<public_id>/favourite",
    methods=("DELETE",),
    summary="Remove a video from your favourites",
    response=ReactionOut,
    errors=(404, 429),
)
def unfavourite(public_id: str) -> ReactionOut:
    return _react(public_id, lambda u, v: engagement.do_unfavourite(db.session, u, v))


@endpoint(
    bp,
    "/me/favourites",
    summary="Your favourite videos, most recently saved first",
    query=FavouritesQuery,
    response=VideoPage,
)
def my_favourites(query: FavouritesQuery) -> VideoPage:
    user = require_user()
    videos, cursor = engagement.favourites_page(
        db.session, user, cursor=query.cursor, limit=query.limit
    )
    return VideoPage(items=videos_for_viewer(db.session, videos, user), next_cursor=cursor)


def _viewer_key(user: User | None) -> str:
    """Whose viewings these are: the account, or a keyed hash of the network address."""
    if user is not None:
        return f"user:{user.id}"
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"ip:{request.remote_addr or ''}".encode(), hashlib.sha256)
    return "ip:" + digest.hexdigest()[:48]


@endpoint(
    bp,
    "/videos/<public_id>/watch",
    methods=("POST",),
    summary="Add watch time from the player (navigator.sendBeacon: form fields 'view', 'ms' and "
    "'csrf_token'); each viewing counts up to the video's length",
    response=WatchOut,
    raw_body="application/x-www-form-urlencoded",
    auth=False,
    errors=(404,),
)
def record_watch(public_id: str) -> WatchOut:
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    data = parse(WatchIn, fields)
    assert isinstance(data, WatchIn)
    user = current_user()
    video = access_video_for_viewing(public_id, user)
    credited = watch.do_record_watch(
        db.session,
        video,
        view_key=data.view,
        viewer_key=_viewer_key(user),
        reported_ms=data.ms,
        now=utcnow(),
        viewings_per_hour=current_app.config["WATCH_VIEWS_PER_HOUR"],
    )
    db.session.commit()
    return WatchOut(credited_ms=credited)

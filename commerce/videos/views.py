"""Video pages: the vertical feed, a watch page, creator pages and the studio."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.auth import current_user, login_required, require_creator, require_user
from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.flashsales.services import card_flashes
from commerce.social.present import profile_card
from commerce.social.services import is_followable
from commerce.timeutil import utcnow
from commerce.videos import engagement, services
from commerce.videos.access import access_video_for_editing, access_video_for_viewing
from commerce.videos.models import Video
from commerce.videos.present import creator_out, pin_product_ids, video_out, videos_for_viewer
from commerce.videos.schemas import VideoOut

bp = Blueprint("videos", __name__)


def _shown(videos: list[Video], viewer: User | None) -> list[VideoOut]:
    """Videos as the feed shows them to this viewer, with the flash sales of their pins."""
    flashes = card_flashes(db.session, pin_product_ids(videos), utcnow())
    return videos_for_viewer(db.session, videos, viewer, flashes=flashes)


@bp.get("/")
def feed_page() -> str:
    return _feed_tab("for_you")


@bp.get("/following")
@login_required
def following_feed() -> str:
    return _feed_tab("following")


def _feed_tab(tab: str) -> str:
    user = current_user()
    items, cursor = services.feed_tab(db.session, tab, user, cursor=None, limit=10)
    return render_template(
        "videos/feed.html",
        initial=[v.model_dump(mode="json") for v in _shown(items, user)],
        next_cursor=cursor,
        creator_id=None,
        tab=tab,
    )


@bp.get("/v/<public_id>")
def watch(public_id: str) -> str:
    user = current_user()
    video = access_video_for_viewing(public_id, user)
    own = user is not None and user.id == video.creator_id
    flashes = card_flashes(db.session, pin_product_ids([video]), utcnow())
    item = videos_for_viewer(db.session, [video], user, flashes=flashes)[0]
    if own:  # the owner also sees the pins of products no longer on sale
        item.pins = video_out(video, for_owner=True, flashes=flashes).pins
    return render_template(
        "videos/feed.html",
        video=video,
        initial=[item.model_dump(mode="json")],
        # Swiping on from a shared video continues with the feed after it.
        next_cursor=services.encode_cursor(video) if video.is_published else None,
        creator_id=None,
        tab="latest",
    )


@bp.get("/c/<int:user_id>")
def creator_page(user_id: int) -> str:
    creator = db.session.get(User, user_id)
    if creator is None:
        raise NotFound(_("This account does not exist."))
    viewer = current_user()
    items, cursor = services.feed_page(db.session, cursor=None, limit=30, creator_id=user_id)
    return render_template(
        "videos/creator.html",
        creator=creator,
        creator_info=creator_out(creator),
        profile=profile_card(db.session, creator, viewer) if is_followable(creator) else None,
        videos=[video_out(v) for v in items],
        products=services.products_in_videos(db.session, creator.id, limit=12),
        next_cursor=cursor,
    )


@bp.get("/me/favourites")
@login_required
def favourites_page() -> str:
    user = require_user()
    cursor = request.args.get("cursor") or None
    videos, next_cursor = engagement.favourites_page(db.session, user, cursor=cursor, limit=30)
    return render_template(
        "videos/favourites.html",
        videos=videos_for_viewer(db.session, videos, user),
        next_cursor=next_cursor,
    )


@bp.get("/studio")
@login_required
def studio() -> str:
    user = require_creator()
    return render_template(
        "videos/studio.html",
        videos=[video_out(v, for_owner=True) for v in services.my_videos(db.session, user, 100)],
    )


@bp.get("/studio/videos/<public_id>")
@login_required
def studio_video(public_id: str) -> str:
    video = access_video_for_editing(public_id, require_creator())
    products = db.session.scalars(
        select(Product).where(Product.is_active.is_(True)).order_by(Product.title).limit(500)
    ).all()
    return render_template(
        "videos/editor.html",
        video=video,
        video_json=video_out(video, for_owner=True).model_dump(mode="json"),
        products=[{"id": p.id, "title": p.title} for p in products],
    )

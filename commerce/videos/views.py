"""Video pages: the vertical feed, a watch page, creator pages and the studio."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.auth import current_user, login_required, require_creator
from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.videos import services
from commerce.videos.access import access_video_for_editing, access_video_for_viewing
from commerce.videos.present import creator_out, video_out

bp = Blueprint("videos", __name__)


@bp.get("/")
def feed_page() -> str:
    items, cursor = services.feed_page(db.session, cursor=None, limit=10)
    return render_template(
        "videos/feed.html",
        initial=[video_out(v).model_dump(mode="json") for v in items],
        next_cursor=cursor,
        creator_id=None,
    )


@bp.get("/v/<public_id>")
def watch(public_id: str) -> str:
    user = current_user()
    video = access_video_for_viewing(public_id, user)
    own = user is not None and user.id == video.creator_id
    return render_template(
        "videos/feed.html",
        video=video,
        initial=[video_out(video, for_owner=own).model_dump(mode="json")],
        # Swiping on from a shared video continues with the feed after it.
        next_cursor=services.encode_cursor(video) if video.is_published else None,
        creator_id=None,
    )


@bp.get("/c/<int:user_id>")
def creator_page(user_id: int) -> str:
    creator = db.session.get(User, user_id)
    if creator is None:
        raise NotFound(_("This account does not exist."))
    items, cursor = services.feed_page(db.session, cursor=None, limit=30, creator_id=user_id)
    return render_template(
        "videos/creator.html",
        creator=creator,
        creator_info=creator_out(creator),
        videos=[video_out(v) for v in items],
        next_cursor=cursor,
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

"""Live-room pages: the studio's rooms, the schedule form, the host's control room, the viewer's
room; and the template helpers that put live rooms on the feed, creator and watch pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import select

from commerce.accounts.auth import current_user, login_required, require_creator
from commerce.catalog.models import Product
from commerce.catalog.present import creator_flash_out
from commerce.extensions import db
from commerce.live import rules, services
from commerce.live.broadcast import fanout
from commerce.live.models import LiveRoom
from commerce.live.present import permissions_out, room_out, snapshot_out
from commerce.social.services import followee_ids_query
from commerce.timeutil import utcnow
from commerce.videos.models import Video

bp = Blueprint("live", __name__)

STRIP_LIMIT = 12


def _room_urls(public_id: str) -> dict[str, str]:
    """Where the pages find the media (served by the ingest side) and the JSON API."""
    return {
        "hls": f"/live/{public_id}/hls/master.m3u8",
        "flv": f"/live/{public_id}/flv",
        "ingest": f"/live/{public_id}/ingest",
        "api": f"/api/v1/live/rooms/{public_id}",
    }


def _replay_url(room: LiveRoom) -> str | None:
    if room.replay_video_id is None:
        return None
    video = db.session.get(Video, room.replay_video_id)
    return f"/v/{video.public_id}" if video is not None and video.is_published else None


def _replay_edit_url(room: LiveRoom) -> str | None:
    """The host's way to their replay, published or not (the viewers' link waits for publish)."""
    video = db.session.get(Video, room.replay_video_id) if room.replay_video_id else None
    return url_for("videos.studio_video", public_id=video.public_id) if video else None


def _shelf_products(user_id: int) -> list[dict[str, Any]]:
    """What a host can feature: products on sale, theirs first."""
    rows = db.session.scalars(
        select(Product)
        .where(Product.is_active.is_(True))
        .order_by((Product.merchant_id == user_id).desc(), Product.title, Product.id)
        .limit(500)
    )
    return [{"id": p.id, "title": p.title, "mine": p.merchant_id == user_id} for p in rows]


@bp.get("/studio/live")
@login_required
def studio_rooms() -> str:
    user = require_creator()
    rooms = db.session.scalars(
        select(LiveRoom)
        .where(LiveRoom.creator_id == user.id)
        .order_by(LiveRoom.created_at.desc(), LiveRoom.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "live/studio.html", rooms=[room_out(r).model_dump(mode="json") for r in rooms]
    )


@bp.get("/studio/live/new")
@login_required
def new_room() -> str:
    user = require_creator()
    return render_template("live/room_form.html", room=None, products=_shelf_products(user.id))


@bp.get("/studio/live/<public_id>/edit")
@login_required
def edit_room(public_id: str) -> str:
    user = require_creator()
    room = services.access_room_for_managing(db.session, public_id, user)
    return render_template(
        "live/room_form.html",
        room=room_out(room).model_dump(mode="json"),
        products=_shelf_products(user.id),
    )


@bp.get("/studio/live/<public_id>")
@login_required
def control(public_id: str) -> str:
    """The host's control room: only the room's creator; others get 403 (not a creator) or 404."""
    user = require_creator()
    room = services.access_room_for_managing(db.session, public_id, user)
    permissions, banned = services.permissions_of(db.session, room, user)
    now = utcnow()
    snapshot = snapshot_out(
        db.session,
        room,
        permissions=permissions_out(permissions, muted_until=None, banned=banned),
        viewers=fanout().viewers(room.public_id),
        now=now,
    )
    host = request.host.split(":")[0] if request.host else "localhost"
    return render_template(
        "live/control.html",
        room=room,
        snapshot=snapshot.model_dump(mode="json"),
        urls=_room_urls(room.public_id),
        rtmp_url=rules.obs_server_url(
            current_app.config.get("LIVE_RTMP_URL"),
            int(current_app.config.get("LIVE_RTMP_PORT") or 0),
            host,
        ),
        max_pins=rules.MAX_PINS,
        replay_edit_url=_replay_edit_url(room),
        flash_bounds=_flash_bounds(room, user.id),
    )


def _flash_bounds(room: LiveRoom, host_id: int) -> dict[str, Any]:
    """What the flash form tells the host of each shelf product: theirs, or the seller's bounds."""
    out: dict[str, Any] = {}
    for item in room.shelf:
        product = item.product
        bounds = creator_flash_out(product).model_dump(mode="json")
        out[str(product.id)] = {**bounds, "own": product.merchant_id == host_id}
    return out


@bp.get("/live/<public_id>")
def room_page(public_id: str) -> str:
    user = current_user()
    room = services.access_room_to_watch(db.session, public_id)  # what the snapshot shows
    now = utcnow()
    permissions, banned = services.permissions_of(db.session, room, user)
    muted = services.current_mute(db.session, room, user.id, now) if user else None
    snapshot = snapshot_out(
        db.session,
        room,
        permissions=permissions_out(permissions, muted_until=muted, banned=banned),
        viewers=fanout().viewers(room.public_id),
        now=now,
    )
    return render_template(
        "live/room.html",
        room=room,
        snapshot=snapshot.model_dump(mode="json"),
        urls=_room_urls(room.public_id),
        replay_url=_replay_url(room),
    )


# Template helpers: the feed, creator and watch pages belong to videos, which sits below live,
# so live offers these to templates rather than videos importing live.


def live_rooms_now(creator_id: int | None = None) -> list[dict[str, Any]]:
    """Rooms live now, most watched first, for the feed's strip."""
    query = select(LiveRoom).where(LiveRoom.state == rules.LIVE)
    if creator_id is not None:
        query = query.where(LiveRoom.creator_id == creator_id)
    rooms = db.session.scalars(query.order_by(LiveRoom.started_at.desc()).limit(50)).all()
    viewers = fanout().viewers_of([r.public_id for r in rooms])
    out = [{**room_out(r).model_dump(mode="json"), "viewers": viewers[r.public_id]} for r in rooms]
    out.sort(key=lambda r: r["viewers"], reverse=True)
    return out[:STRIP_LIMIT]


def live_rooms_followed() -> list[dict[str, Any]]:
    """Rooms live now whose creators the viewer follows, for the Following tab's strip."""
    user = current_user()
    if user is None:
        return []
    rooms = db.session.scalars(
        select(LiveRoom)
        .where(LiveRoom.state == rules.LIVE, LiveRoom.creator_id.in_(followee_ids_query(user.id)))
        .order_by(LiveRoom.started_at.desc())
        .limit(STRIP_LIMIT)
    ).all()
    viewers = fanout().viewers_of([r.public_id for r in rooms])
    return [{**room_out(r).model_dump(mode="json"), "viewers": viewers[r.public_id]} for r in rooms]


def upcoming_rooms(creator_id: int) -> list[dict[str, Any]]:
    rooms = db.session.scalars(
        select(LiveRoom)
        .where(LiveRoom.creator_id == creator_id, LiveRoom.state == rules.SCHEDULED)
        .order_by(LiveRoom.scheduled_at.is_(None), LiveRoom.scheduled_at, LiveRoom.id)
        .limit(STRIP_LIMIT)
    ).all()
    return [room_out(r).model_dump(mode="json") for r in rooms]


def replay_room_of(video_public_id: str) -> dict[str, Any] | None:
    """The room whose replay this video is, if any."""
    room = db.session.scalar(
        select(LiveRoom)
        .join(Video, Video.id == LiveRoom.replay_video_id)
        .where(Video.public_id == video_public_id)
    )
    if room is None:
        return None
    return {"id": room.public_id, "title": room.title, "api": _room_urls(room.public_id)["api"]}


@bp.app_context_processor
def live_helpers() -> dict[str, Any]:
    return {
        "live_rooms_now": live_rooms_now,
        "live_rooms_followed": live_rooms_followed,
        "upcoming_rooms": upcoming_rooms,
        "replay_room_of": replay_room_of,
    }

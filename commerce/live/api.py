"""Live rooms JSON API, the host's side: schedule, edit, cover, key, go live, end, pins, sales."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _
from sqlalchemy import select

from commerce.accounts.auth import current_user, require_creator, require_user
from commerce.apispec import endpoint
from commerce.errors import ValidationFailed
from commerce.extensions import db
from commerce.files.services import storage
from commerce.live import dashboard, golive, services
from commerce.live.broadcast import fanout
from commerce.live.models import LiveRoom
from commerce.live.present import (
    permissions_out,
    pin_out,
    pins_out,
    room_out,
    snapshot_out,
)
from commerce.live.queries import pin_history
from commerce.live.schemas import (
    DashboardOut,
    LiveFlashSaleIn,
    LivePinsOut,
    PinHistoryOut,
    ProductRefIn,
    RoomIn,
    RoomOut,
    RoomPage,
    SnapshotOut,
    StreamKeyOut,
)
from commerce.live.selling import flashes_by_pin
from commerce.timeutil import utcnow

bp = Blueprint("live_api", __name__, url_prefix="/api/v1/live")

ROOM = "/rooms/<room_id>"


@endpoint(
    bp,
    "/rooms",
    methods=("POST",),
    summary="Schedule a live room",
    body=RoomIn,
    response=RoomOut,
    status=201,
    errors=(403,),
)
def schedule_room(body: RoomIn) -> RoomOut:
    room = services.do_schedule_room(db.session, require_creator(), body, utcnow())
    db.session.commit()
    return room_out(room)


@endpoint(bp, "/rooms/mine", summary="Your live rooms, newest first", response=RoomPage)
def my_rooms() -> RoomPage:
    user = require_user()
    rooms = db.session.scalars(
        select(LiveRoom)
        .where(LiveRoom.creator_id == user.id)
        .order_by(LiveRoom.created_at.desc(), LiveRoom.id.desc())
        .limit(100)
    )
    return RoomPage(items=[room_out(r) for r in rooms])


@endpoint(bp, ROOM, summary="A live room", response=RoomOut, auth=False, errors=(404,))
def get_room(room_id: str) -> RoomOut:
    return room_out(services.access_room(db.session, room_id))


@endpoint(
    bp,
    f"{ROOM}/snapshot",
    summary="Everything to draw the room (what live.join acknowledges with)",
    response=SnapshotOut,
    auth=False,
    errors=(403, 404),
)
def snapshot(room_id: str) -> SnapshotOut:
    user, now = current_user(), utcnow()
    room = services.access_room(db.session, room_id)
    permissions, banned = services.permissions_of(db.session, room, user)
    muted = services.current_mute(db.session, room, user.id, now) if user else None
    return snapshot_out(
        db.session,
        room,
        permissions=permissions_out(permissions, muted_until=muted, banned=banned),
        viewers=fanout().viewers(room.public_id),
        now=now,
    )


@endpoint(
    bp,
    ROOM,
    methods=("PATCH",),
    summary="Edit title, description, schedule and shelf",
    body=RoomIn,
    response=RoomOut,
    errors=(404, 409),
)
def edit_room(room_id: str, body: RoomIn) -> RoomOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    services.do_edit_room(db.session, room, body, utcnow())
    db.session.commit()
    return room_out(room)


@endpoint(
    bp,
    f"{ROOM}/cover",
    methods=("PUT",),
    summary="Upload the cover image (multipart field 'image')",
    response=RoomOut,
    raw_body="multipart/form-data",
    errors=(404, 413),
)
def set_cover(room_id: str) -> RoomOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    upload = request.files.get("image")
    if upload is None:
        raise ValidationFailed(_("Choose an image to upload."), fields={"image": _("Required.")})
    backend = storage()
    old_key = services.do_set_cover(db.session, backend, room, upload.stream)
    db.session.commit()
    if old_key:
        backend.delete(old_key)  # the bytes go once the row that pointed at them is gone
    return room_out(room)


@endpoint(
    bp,
    f"{ROOM}/stream-key",
    methods=("POST",),
    summary="Make a new stream key (the old one stops working); shown this once",
    response=StreamKeyOut,
    errors=(404, 409),
)
def rotate_stream_key(room_id: str) -> StreamKeyOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    now = utcnow()
    key = services.do_rotate_stream_key(room, now)
    db.session.commit()
    return StreamKeyOut(stream_key=key, rotated_at=now)


@endpoint(
    bp,
    f"{ROOM}/start",
    methods=("POST",),
    summary="Go live",
    response=RoomOut,
    errors=(404, 409),
)
def start(room_id: str) -> RoomOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    golive.do_go_live(db.session, room, utcnow())
    db.session.commit()
    return room_out(room)


@endpoint(
    bp,
    f"{ROOM}/end",
    methods=("POST",),
    summary="End the live (or call off a scheduled one); ending twice is refused",
    response=RoomOut,
    errors=(404, 409),
)
def end(room_id: str) -> RoomOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    services.do_end_room(db.session, room, utcnow())
    db.session.commit()
    return room_out(room)


@endpoint(
    bp,
    f"{ROOM}/pins",
    summary="Products pinned now, with their flash sales",
    response=LivePinsOut,
    auth=False,
    errors=(404,),
)
def current_pins(room_id: str) -> LivePinsOut:
    return pins_out(db.session, services.access_room(db.session, room_id), utcnow())


@endpoint(
    bp,
    f"{ROOM}/pins",
    methods=("POST",),
    summary="Pin a product of the shelf (at most 3 at once)",
    body=ProductRefIn,
    response=LivePinsOut,
    status=201,
    errors=(404, 409),
)
def pin(room_id: str, body: ProductRefIn) -> LivePinsOut:
    user = require_user()
    room = services.access_room_for_managing(db.session, room_id, user)
    now = utcnow()
    services.do_pin(db.session, room, user, body.product_id, now)
    db.session.commit()
    return pins_out(db.session, room, now)


@endpoint(
    bp,
    f"{ROOM}/pins/<int:product_id>",
    methods=("DELETE",),
    summary="Unpin a product (its pin stays in the replay timeline)",
    response=LivePinsOut,
    errors=(404,),
)
def unpin(room_id: str, product_id: int) -> LivePinsOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    now = utcnow()
    services.do_unpin(db.session, room, product_id, now)
    db.session.commit()
    return pins_out(db.session, room, now)


@endpoint(
    bp,
    f"{ROOM}/pins/history",
    summary="Every pin of the show, for the replay timeline",
    response=PinHistoryOut,
    auth=False,
    errors=(404,),
)
def pins_history(room_id: str) -> PinHistoryOut:
    room, now = services.access_room(db.session, room_id), utcnow()
    pins = pin_history(db.session, room)
    flashes = flashes_by_pin(db.session, pins, now)
    return PinHistoryOut(
        room=room.public_id,
        started_at=room.started_at,
        pins=[pin_out(p, flashes.get(p.id), now) for p in pins],
    )


@endpoint(
    bp,
    f"{ROOM}/flash-sales",
    methods=("POST",),
    summary="Start a flash sale of a pinned product (yours, or within its seller's bounds)",
    body=LiveFlashSaleIn,
    response=LivePinsOut,
    status=201,
    errors=(400, 403, 404, 409),
)
def start_flash_sale(room_id: str, body: LiveFlashSaleIn) -> LivePinsOut:
    user = require_user()
    room = services.access_room_for_managing(db.session, room_id, user)
    now = utcnow()
    services.do_start_flash_sale(db.session, room, user, body, now)
    db.session.commit()
    return pins_out(db.session, room, now)


@endpoint(
    bp,
    f"{ROOM}/dashboard",
    summary="Viewers, hearts, chat, clicks, orders and GMV, per minute and per pinned product",
    response=DashboardOut,
    errors=(404,),
)
def room_dashboard(room_id: str) -> DashboardOut:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    return dashboard.build_dashboard(
        db.session, room, current_viewers=fanout().viewers(room.public_id), now=utcnow()
    )

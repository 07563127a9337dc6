"""Live rooms JSON API, the audience's and moderators' side: chat, hearts, clicks, moderation."""

from __future__ import annotations

from flask import Blueprint, Response

from commerce.accounts.auth import current_user, require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.live import chat, services
from commerce.live.broadcast import fanout
from commerce.live.present import creator_out, message_out, settings_out
from commerce.live.queries import recent_chat
from commerce.live.schemas import (
    ChatIn,
    ChatMessageOut,
    ChatPage,
    ClickOut,
    HeartsIn,
    ModeratorList,
    MuteIn,
    MuteOut,
    ProductRefIn,
    SettingsIn,
    SettingsOut,
    UserRefIn,
)
from commerce.timeutil import utcnow

bp = Blueprint("live_chat_api", __name__, url_prefix="/api/v1/live")

ROOM = "/rooms/<room_id>"


@endpoint(
    bp,
    f"{ROOM}/chat",
    summary="The last 50 messages still shown, oldest first",
    response=ChatPage,
    auth=False,
    errors=(404,),
)
def list_chat(room_id: str) -> ChatPage:
    room = services.access_room(db.session, room_id)
    return ChatPage(items=[message_out(m, room) for m in recent_chat(db.session, room)])


@endpoint(
    bp,
    f"{ROOM}/chat",
    methods=("POST",),
    summary="Post a chat message (rate limit, slow mode, keyword filter, mutes and bans apply)",
    body=ChatIn,
    response=ChatMessageOut,
    status=201,
    errors=(403, 404, 409, 429),
)
def post_chat(room_id: str, body: ChatIn) -> ChatMessageOut:
    user = require_user()
    room = services.access_room(db.session, room_id)
    message = chat.do_post_message(db.session, room, user, body.text, utcnow())
    db.session.commit()
    return message_out(message, room)


@endpoint(
    bp,
    f"{ROOM}/chat/<int:message_id>",
    methods=("DELETE",),
    summary="Delete a message (host or moderator)",
    status=204,
    errors=(403, 404),
)
def delete_chat(room_id: str, message_id: int) -> Response:
    user = require_user()
    room, role = services.access_room_for_moderating(db.session, room_id, user)
    chat.do_delete_message(db.session, room, user, role, message_id, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    f"{ROOM}/hearts",
    methods=("POST",),
    summary="Send hearts (counted in the next tick, capped per connection)",
    body=HeartsIn,
    response=ClickOut,
    auth=False,
    errors=(404,),
)
def send_hearts(room_id: str, body: HeartsIn) -> ClickOut:
    room = services.access_room(db.session, room_id)
    user = current_user()
    # Without a socket, the browser session stands in for the connection the cap applies to.
    who = f"user:{user.id}" if user else "anonymous"
    fanout().add_hearts(room.public_id, who, body.count)
    return ClickOut(ok=True)


@endpoint(
    bp,
    f"{ROOM}/clicks",
    methods=("POST",),
    summary="Count a tap on a product card of the room",
    body=ProductRefIn,
    response=ClickOut,
    auth=False,
    errors=(404,),
)
def product_click(room_id: str, body: ProductRefIn) -> ClickOut:
    room = services.access_room(db.session, room_id)
    services.check_on_shelf(room, body.product_id)
    fanout().add_click(room.public_id, body.product_id)
    return ClickOut(ok=True)


@endpoint(
    bp,
    f"{ROOM}/settings",
    methods=("PUT",),
    summary="Slow mode and keyword filter (host or moderator)",
    body=SettingsIn,
    response=SettingsOut,
    errors=(403, 404),
)
def update_settings(room_id: str, body: SettingsIn) -> SettingsOut:
    room, _role = services.access_room_for_moderating(db.session, room_id, require_user())
    chat.do_update_settings(db.session, room, body)
    db.session.commit()
    return settings_out(room, staff=True)


@endpoint(
    bp,
    f"{ROOM}/mutes",
    methods=("POST",),
    summary="Mute a viewer for a time (host or moderator)",
    body=MuteIn,
    response=MuteOut,
    status=201,
    errors=(403, 404),
)
def mute(room_id: str, body: MuteIn) -> MuteOut:
    user = require_user()
    room, _role = services.access_room_for_moderating(db.session, room_id, user)
    record = chat.do_mute(db.session, room, user, body.user_id, body.seconds, utcnow())
    db.session.commit()
    return MuteOut(user_id=record.user_id, until=record.until)


@endpoint(
    bp,
    f"{ROOM}/mutes/<int:user_id>",
    methods=("DELETE",),
    summary="Lift a mute (host or moderator)",
    status=204,
    errors=(403, 404),
)
def unmute(room_id: str, user_id: int) -> Response:
    room, _role = services.access_room_for_moderating(db.session, room_id, require_user())
    chat.do_unmute(db.session, room, user_id, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    f"{ROOM}/bans",
    methods=("POST",),
    summary="Ban a viewer from the room (host or moderator)",
    body=UserRefIn,
    status=204,
    errors=(403, 404),
)
def ban(room_id: str, body: UserRefIn) -> Response:
    user = require_user()
    room, _role = services.access_room_for_moderating(db.session, room_id, user)
    chat.do_ban(db.session, room, user, body.user_id, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    f"{ROOM}/bans/<int:user_id>",
    methods=("DELETE",),
    summary="Lift a ban (host or moderator)",
    status=204,
    errors=(403, 404),
)
def unban(room_id: str, user_id: int) -> Response:
    room, _role = services.access_room_for_moderating(db.session, room_id, require_user())
    chat.do_unban(db.session, room, user_id, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    f"{ROOM}/moderators",
    summary="The room's moderators (host only)",
    response=ModeratorList,
    errors=(404,),
)
def moderators(room_id: str) -> ModeratorList:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    return ModeratorList(items=[creator_out(u) for u in chat.list_moderators(db.session, room)])


@endpoint(
    bp,
    f"{ROOM}/moderators",
    methods=("POST",),
    summary="Appoint a moderator (host only)",
    body=UserRefIn,
    response=ModeratorList,
    status=201,
    errors=(404, 409),
)
def appoint_moderator(room_id: str, body: UserRefIn) -> ModeratorList:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    chat.do_appoint_moderator(db.session, room, body.user_id, utcnow())
    db.session.commit()
    return ModeratorList(items=[creator_out(u) for u in chat.list_moderators(db.session, room)])


@endpoint(
    bp,
    f"{ROOM}/moderators/<int:user_id>",
    methods=("DELETE",),
    summary="Remove a moderator (host only)",
    status=204,
    errors=(404,),
)
def remove_moderator(room_id: str, user_id: int) -> Response:
    room = services.access_room_for_managing(db.session, room_id, require_user())
    chat.do_remove_moderator(db.session, room, user_id, utcnow())
    db.session.commit()
    return Response(status=204)

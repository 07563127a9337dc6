"""Live rooms as the API, the snapshot and the events show them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.files.services import object_url
from commerce.flashsales.models import FlashSale
from commerce.live import rules
from commerce.live.models import LiveChatMessage, LivePin, LiveRoom
from commerce.live.queries import open_pins, recent_chat
from commerce.live.schemas import (
    ChatMessageOut,
    LivePinOut,
    LivePinsOut,
    PermissionsOut,
    RoomOut,
    SettingsOut,
    SnapshotOut,
)
from commerce.live.selling import flashes_by_pin, live_flash_out, shelf_flashes
from commerce.videos.present import creator_out as creator_out
from commerce.videos.present import product_card as product_card


def room_out(room: LiveRoom) -> RoomOut:
    replay = room.replay_video_id
    return RoomOut(
        id=room.public_id,
        title=room.title,
        description=room.description,
        state=room.state,
        scheduled_at=room.scheduled_at,
        started_at=room.started_at,
        ended_at=room.ended_at,
        cover_url=object_url(room.cover),
        creator=creator_out(room.creator),
        shelf=[product_card(item.product) for item in room.shelf if item.product.is_active],
        peak_viewers=room.peak_viewers,
        hearts=room.hearts_total,
        replay_video_id=str(replay) if replay is not None else None,
        has_stream_key=room.stream_key_hash is not None,
        url=f"/live/{room.public_id}",
    )


def pin_out(pin: LivePin, flash: FlashSale | None, now: datetime) -> LivePinOut:
    return LivePinOut(
        id=pin.id,
        product=product_card(pin.product),
        pinned_at=pin.pinned_at,
        unpinned_at=pin.unpinned_at,
        flash=live_flash_out(flash, now, pin.product.currency) if flash is not None else None,
    )


def pins_out(session: Session, room: LiveRoom, now: datetime) -> LivePinsOut:
    pins = open_pins(session, room)
    flashes = flashes_by_pin(session, pins, now)
    return LivePinsOut(
        room=room.public_id,
        version=room.pins_version,
        pins=[pin_out(pin, flashes.get(pin.id), now) for pin in pins],
        shelf_flashes=[
            live_flash_out(flash, now, flash.product.currency)
            for flash in shelf_flashes(session, room, now)
        ],
        server_now=now,
    )


def message_out(message: LiveChatMessage, room: LiveRoom) -> ChatMessageOut:
    return ChatMessageOut(
        id=message.id,
        room=room.public_id,
        author=creator_out(message.author),
        author_role=message.author_role,
        text=message.text,
        html=rules.render_chat_html(
            message.text, links=rules.may_render_links(message.author_role)
        ),
        created_at=message.created_at,
    )


def settings_out(room: LiveRoom, *, staff: bool) -> SettingsOut:
    return SettingsOut(
        slow_mode_seconds=room.slow_mode_seconds,
        keyword_filter=list(room.keyword_filter) if staff else None,
    )


def permissions_out(
    permissions: rules.Permissions, *, muted_until: datetime | None, banned: bool
) -> PermissionsOut:
    return PermissionsOut(
        role=permissions.role,
        can_chat=permissions.can_chat and muted_until is None,
        can_pin=permissions.can_pin,
        can_moderate=permissions.can_moderate,
        can_manage=permissions.can_manage,
        muted_until=muted_until,
        banned=banned,
    )


def snapshot_out(
    session: Session,
    room: LiveRoom,
    *,
    permissions: PermissionsOut,
    viewers: int,
    now: datetime,
) -> SnapshotOut:
    return SnapshotOut(
        room=room_out(room),
        pins=pins_out(session, room, now),
        chat=[message_out(m, room) for m in recent_chat(session, room)],
        viewers=viewers,
        hearts=room.hearts_total,
        settings=settings_out(room, staff=permissions.can_moderate),
        permissions=permissions,
        server_now=now,
    )

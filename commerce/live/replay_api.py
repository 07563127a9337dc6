"""The replay timeline: pins, flash sales and chat of a show, as offsets into its replay."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.accounts.auth import current_user
from commerce.apispec import endpoint
from commerce.errors import Conflict
from commerce.extensions import db
from commerce.flashsales.models import FlashSale
from commerce.live import rules, services
from commerce.live.models import LiveChatMessage, LiveFlashSale, LiveRoom
from commerce.live.present import creator_out, product_card
from commerce.live.queries import pin_history
from commerce.live.replay import ReplayPart, offset_ms, replay_clock, shown_until
from commerce.money import format_money
from commerce.validation import Schema
from commerce.videos.access import can_view
from commerce.videos.models import Video
from commerce.videos.schemas import CreatorOut, ProductCard

bp = Blueprint("live_replay_api", __name__, url_prefix="/api/v1/live")

CHAT_PAGE = 500


class ReplayVideoOut(Schema):
    id: str
    state: str
    playable: bool
    url: str


class TimelinePinOut(Schema):
    id: int
    product: ProductCard
    start_s: float
    end_s: float | None = Field(description="None: pinned until the end of the show.")
    flash_sale_ids: list[int]


class TimelineFlashOut(Schema):
    id: int
    product_id: int
    pin_id: int
    price_minor: int
    price_display: str
    quantity: int
    sold: int
    start_s: float
    end_s: float


class TimelineChatOut(Schema):
    id: int
    author: CreatorOut
    author_role: str
    text: str = Field(description="As typed: put it in the page with textContent.")
    html: str = Field(description="Escaped, links clickable only in staff messages.")
    at_s: float


class ReplayTimelineOut(Schema):
    """Offsets are seconds into the replay: the recording's parts back to back (the wait before
    the media arrived and any dropped stretch are not in it)."""

    room: str
    started_at: datetime
    ended_at: datetime | None
    replay: ReplayVideoOut | None = Field(description="Once the replay is made and visible.")
    pins: list[TimelinePinOut]
    flash_sales: list[TimelineFlashOut]
    chat: list[TimelineChatOut]
    chat_next: int | None = Field(description="Pass as ?chat_after= for the next chat page.")


class TimelineQuery(Schema):
    chat_after: int = Field(default=0, ge=0)


def _seconds(moment: datetime, clock: list[ReplayPart]) -> float:
    return offset_ms(moment, clock) / 1000


def _replay(session: Session, room: LiveRoom) -> ReplayVideoOut | None:
    video = session.get(Video, room.replay_video_id) if room.replay_video_id else None
    if video is None or not can_view(video, current_user()):
        return None
    return ReplayVideoOut(
        id=video.public_id, state=video.state, playable=video.playable, url=f"/v/{video.public_id}"
    )


def timeline_out(session: Session, room: LiveRoom, chat_after: int) -> ReplayTimelineOut:
    assert room.started_at is not None
    clock = replay_clock(room)
    flashes = session.execute(
        select(LiveFlashSale.pin_id, FlashSale)
        .join(FlashSale, FlashSale.id == LiveFlashSale.flash_sale_id)
        .where(LiveFlashSale.room_id == room.id)
        .order_by(FlashSale.starts_at, FlashSale.id)
    ).all()
    by_pin: dict[int, list[int]] = {}
    for pin_id, flash in flashes:
        by_pin.setdefault(pin_id, []).append(flash.id)
    pins = []
    for pin in pin_history(session, room):
        if not pin.product.is_active:
            continue
        # Closed by the end: to the end of the replay, as its video pin.
        until = shown_until(pin.unpinned_at, closed_by_end=pin.closed_by_end)
        pins.append(
            TimelinePinOut(
                id=pin.id,
                product=product_card(pin.product),
                start_s=_seconds(pin.pinned_at, clock),
                end_s=_seconds(until, clock) if until is not None else None,
                flash_sale_ids=by_pin.get(pin.id, []),
            )
        )
    messages = list(
        session.scalars(
            select(LiveChatMessage)
            .where(
                LiveChatMessage.room_id == room.id,
                LiveChatMessage.deleted_at.is_(None),
                LiveChatMessage.id > chat_after,
            )
            .order_by(LiveChatMessage.id)
            .limit(CHAT_PAGE + 1)
        )
    )
    more = len(messages) > CHAT_PAGE
    messages = messages[:CHAT_PAGE]
    return ReplayTimelineOut(
        room=room.public_id,
        started_at=room.started_at,
        ended_at=room.ended_at,
        replay=_replay(session, room),
        pins=pins,
        flash_sales=[
            TimelineFlashOut(
                id=flash.id,
                product_id=flash.product_id,
                pin_id=pin_id,
                price_minor=flash.price_minor,
                price_display=format_money(flash.price_minor, flash.product.currency),
                quantity=flash.quantity,
                sold=flash.sold,
                start_s=_seconds(flash.starts_at, clock),
                end_s=_seconds(flash.ends_at, clock),
            )
            for pin_id, flash in flashes
        ],
        chat=[
            TimelineChatOut(
                id=m.id,
                author=creator_out(m.author),
                author_role=m.author_role,
                text=m.text,
                html=rules.render_chat_html(m.text, links=rules.may_render_links(m.author_role)),
                at_s=_seconds(m.created_at, clock),
            )
            for m in messages
        ],
        chat_next=messages[-1].id if more else None,
    )


@endpoint(
    bp,
    "/rooms/<room_id>/replay-timeline",
    summary="Pins, flash sales and chat of a show with their offsets, for the replay player",
    query=TimelineQuery,
    response=ReplayTimelineOut,
    auth=False,
    errors=(404, 409),
)
def replay_timeline(room_id: str, query: TimelineQuery) -> ReplayTimelineOut:
    session = db.session()
    room = services.access_room(session, room_id)
    if room.started_at is None:
        raise Conflict(_("This live has not started: it has no timeline yet."), code="not_started")
    return timeline_out(session, room, query.chat_after)

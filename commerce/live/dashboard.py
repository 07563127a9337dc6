"""The host's live dashboard: per-minute series and per-product results of one room.

Orders count when placed and not cancelled; GMV counts the lines of paid orders (refunds not
taken off), per currency, attributed to the minute the order was placed. Order lines come from
the room when they carry source_kind "live" and the room's public id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.live.fanout import minute_of
from commerce.live.models import LiveChatMessage, LiveMinute, LiveProductClick, LiveRoom
from commerce.live.queries import pin_history
from commerce.live.rules import ENDED
from commerce.live.schemas import DashboardOut, DashboardPoint, DashboardProduct
from commerce.orders.models import Order, OrderLine
from commerce.orders.rules import CANCELLED, PAID_STATES

MAX_MINUTES = 24 * 60  # a longer show keeps its last day in the series
LIVE_SOURCE = "live"


@dataclass
class _Minute:
    viewers: int = 0
    hearts: int = 0
    chat: int = 0
    clicks: int = 0
    orders: set[int] = field(default_factory=set)
    gmv: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class _Product:
    title: str = ""
    currency: str = ""
    clicks: int = 0
    orders: set[int] = field(default_factory=set)
    units: int = 0
    gmv: int = 0
    pinned_seconds: int = 0


def _line_rows(session: Session, room: LiveRoom) -> list:
    return list(
        session.execute(
            select(
                Order.id,
                Order.state,
                Order.currency,
                Order.created_at,
                OrderLine.product_id,
                OrderLine.title,
                OrderLine.quantity,
                OrderLine.amount_minor,
                OrderLine.refunded_minor,
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                OrderLine.source_kind == LIVE_SOURCE,
                OrderLine.source_key == room.public_id,
                Order.state != CANCELLED,
            )
        )
    )


def build_dashboard(
    session: Session, room: LiveRoom, *, current_viewers: int, now: datetime
) -> DashboardOut:
    first = minute_of(room.started_at or room.created_at)
    last = minute_of(room.ended_at or now)
    first = max(first, last - timedelta(minutes=MAX_MINUTES - 1))
    minutes: dict[datetime, _Minute] = defaultdict(_Minute)
    products: dict[int, _Product] = defaultdict(_Product)

    for row in session.scalars(select(LiveMinute).where(LiveMinute.room_id == room.id)):
        minutes[row.minute].viewers = row.peak_viewers
        minutes[row.minute].hearts = row.hearts
    chat_times = session.scalars(
        select(LiveChatMessage.created_at).where(LiveChatMessage.room_id == room.id)
    )
    chat_total = 0
    for created_at in chat_times:
        minutes[minute_of(created_at)].chat += 1
        chat_total += 1
    for click in session.scalars(
        select(LiveProductClick).where(LiveProductClick.room_id == room.id)
    ):
        minutes[click.minute].clicks += click.clicks
        products[click.product_id].clicks += click.clicks
    for pin in pin_history(session, room):
        product = products[pin.product_id]
        product.title, product.currency = pin.product.title, pin.product.currency
        product.pinned_seconds += int(((pin.unpinned_at or now) - pin.pinned_at).total_seconds())
    all_orders: set[int] = set()
    gmv_total: dict[str, int] = defaultdict(int)
    for row in _line_rows(session, room):
        bucket, product = minutes[minute_of(row.created_at)], products[row.product_id]
        product.title = product.title or row.title
        product.currency = product.currency or row.currency
        bucket.orders.add(row.id)
        product.orders.add(row.id)
        all_orders.add(row.id)
        product.units += row.quantity
        if row.state in PAID_STATES:
            kept = row.amount_minor - row.refunded_minor  # what the buyers did not get back
            bucket.gmv[row.currency] += kept
            product.gmv += kept
            gmv_total[row.currency] += kept

    series = []
    moment = first
    while moment <= last:
        bucket = minutes.get(moment, _Minute())
        series.append(
            DashboardPoint(
                minute=moment,
                viewers=bucket.viewers,
                hearts=bucket.hearts,
                chat_messages=bucket.chat,
                product_clicks=bucket.clicks,
                orders=len(bucket.orders),
                gmv_minor=dict(bucket.gmv),
            )
        )
        moment += timedelta(minutes=1)
    live_minutes = max(1, len(series)) if room.started_at else 1
    return DashboardOut(
        room=room.public_id,
        state=room.state,
        # Pages left open on an ended room are connected, not watching the show.
        current_viewers=0 if room.state == ENDED else current_viewers,
        peak_viewers=room.peak_viewers,
        hearts=room.hearts_total,
        chat_messages=chat_total,
        chat_per_minute=round(chat_total / live_minutes, 2),
        product_clicks=sum(p.clicks for p in products.values()),
        orders=len(all_orders),
        gmv_minor=dict(gmv_total),
        products=[
            DashboardProduct(
                product_id=product_id,
                title=p.title,
                currency=p.currency,
                clicks=p.clicks,
                orders=len(p.orders),
                units=p.units,
                gmv_minor=p.gmv,
                pinned_seconds=p.pinned_seconds,
            )
            for product_id, p in sorted(products.items())
        ],
        series=series,
    )

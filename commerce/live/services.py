"""Live-room use cases: access, schedule and edit, cover, go live and end, stream keys, pins."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from commerce.accounts.models import User
from commerce.catalog.models import Product, ProductImage
from commerce.errors import Conflict, Forbidden, NotFound, ValidationFailed
from commerce.files.services import store_image
from commerce.flashsales.models import FlashSale
from commerce.live import rules, selling
from commerce.live.broadcast import publish_pins, publish_state
from commerce.live.models import LiveBan, LiveMute, LivePin, LiveRoom, LiveShelfItem
from commerce.live.queries import moderator_ids, open_pins
from commerce.live.schemas import LiveFlashSaleIn, RoomIn
from media.storage import Storage

KEY_SEPARATOR = "."  # never in a url-safe token, so the room id can be read back from a key
MAX_STREAM_KEY_LENGTH = 128
COVER_MAX_SIDE = 1280


# Access -------------------------------------------------------------------------------------------


def new_public_id() -> str:
    return secrets.token_urlsafe(9)


def access_room(session: Session, public_id: str) -> LiveRoom:
    """Any room, for anyone: rooms are public from the moment they are scheduled."""
    room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
    if room is None:
        raise NotFound(_("This live room does not exist."))
    return room


def access_room_to_watch(session: Session, public_id: str) -> LiveRoom:
    """access_room with what a viewer's snapshot shows loaded at once (host, cover, shelf and its
    images): a join costs a few queries instead of one per product and image. An audience
    arriving together multiplies every query of a join by thousands."""
    room = session.scalar(
        select(LiveRoom)
        .where(LiveRoom.public_id == public_id)
        .options(
            joinedload(LiveRoom.creator).joinedload(User.avatar),
            joinedload(LiveRoom.cover),
            selectinload(LiveRoom.shelf)
            .joinedload(LiveShelfItem.product)
            .selectinload(Product.images)
            .joinedload(ProductImage.object),
        )
    )
    if room is None:
        raise NotFound(_("This live room does not exist."))
    return room


def access_room_for_managing(session: Session, public_id: str, user: User | None) -> LiveRoom:
    """The creator's own room; to anyone else it looks like it does not exist."""
    room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
    if room is None or user is None or room.creator_id != user.id:
        raise NotFound(_("This live room does not exist or is not yours."))
    return room


def role_in(session: Session, room: LiveRoom, user: User | None) -> str:
    user_id = user.id if user is not None else None
    if user_id is None or user_id == room.creator_id:
        return rules.role_of(user_id, room.creator_id, ())
    return rules.role_of(user_id, room.creator_id, moderator_ids(session, room))


def is_banned(session: Session, room: LiveRoom, user_id: int) -> bool:
    return session.get(LiveBan, (room.id, user_id)) is not None


def current_mute(session: Session, room: LiveRoom, user_id: int, now: datetime) -> datetime | None:
    mute = session.get(LiveMute, (room.id, user_id))
    return mute.until if mute is not None and rules.is_muted(mute.until, now) else None


def permissions_of(
    session: Session, room: LiveRoom, user: User | None
) -> tuple[rules.Permissions, bool]:
    """What the user may do here, and whether they are banned."""
    role = role_in(session, room, user)
    banned = user is not None and role == rules.VIEWER and is_banned(session, room, user.id)
    return rules.permissions_for(role, banned=banned), banned


def access_room_for_moderating(
    session: Session, public_id: str, user: User | None
) -> tuple[LiveRoom, str]:
    """The room and the actor's role, when the actor is its creator or one of its moderators."""
    room = access_room(session, public_id)
    role = role_in(session, room, user)
    if not rules.permissions_for(role).can_moderate:
        raise Forbidden(_("Only the host and the room's moderators can do that."))
    return room, role


def access_room_as_host(session: Session, public_id: str, user: User | None) -> LiveRoom:
    """Going live, ending, pins and flash sales are the host's: anyone else is refused, openly."""
    room = access_room(session, public_id)
    if user is None or room.creator_id != user.id:
        raise Forbidden(_("Only the host of this room can do that."))
    return room


def access_room_for_streaming(session: Session, public_id: str, user: User) -> LiveRoom:
    """The host's room, while it can still take a stream."""
    room = access_room_as_host(session, public_id, user)
    if room.state == rules.ENDED:
        raise Conflict(_("This live has ended."), code="ended")
    return room


# Scheduling and editing ---------------------------------------------------------------------------


def check_featured_products(session: Session, product_ids: list[int]) -> list[Product]:
    """The shelf's products, in order: each must exist, be on sale and appear once."""
    if len(set(product_ids)) != len(product_ids):
        raise ValidationFailed(
            _("A product can be on the shelf only once."),
            fields={"featured_product_ids": _("Duplicate product.")},
        )
    found = {
        p.id: p
        for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))
        if p.is_active
    }
    missing = [pid for pid in product_ids if pid not in found]
    if missing:
        raise ValidationFailed(
            _("Some featured products do not exist or are not on sale."),
            fields={"featured_product_ids": ", ".join(str(pid) for pid in missing)},
        )
    return [found[pid] for pid in product_ids]


def _check_schedule(scheduled_at: datetime | None, now: datetime) -> None:
    if scheduled_at is not None and scheduled_at < now:
        raise ValidationFailed(
            _("Schedule the live for a time in the future."),
            fields={"scheduled_at": _("In the past.")},
        )


def _set_shelf(room: LiveRoom, products: list[Product]) -> None:
    room.shelf = [
        LiveShelfItem(product_id=product.id, position=index)
        for index, product in enumerate(products)
    ]


def do_schedule_room(session: Session, creator: User, data: RoomIn, now: datetime) -> LiveRoom:
    if not creator.is_creator:
        raise Forbidden(_("Turn on creator mode in your profile to go live."))
    _check_schedule(data.scheduled_at, now)
    products = check_featured_products(session, data.featured_product_ids)
    room = LiveRoom(
        public_id=new_public_id(),
        creator_id=creator.id,
        title=data.title,
        description=data.description,
        scheduled_at=data.scheduled_at,
        state=rules.SCHEDULED,
        keyword_filter=[],
        created_at=now,
    )
    _set_shelf(room, products)
    session.add(room)
    session.flush()
    return room


def do_edit_room(session: Session, room: LiveRoom, data: RoomIn, now: datetime) -> LiveRoom:
    if room.state == rules.ENDED:
        raise Conflict(_("This live has ended and can no longer be changed."), code="ended")
    if data.scheduled_at != room.scheduled_at:
        if room.state != rules.SCHEDULED:
            raise Conflict(_("The live has started: its schedule can no longer change."))
        _check_schedule(data.scheduled_at, now)
    products = check_featured_products(session, data.featured_product_ids)
    room.title, room.description, room.scheduled_at = (
        data.title,
        data.description,
        data.scheduled_at,
    )
    room.shelf.clear()
    session.flush()  # the old shelf rows go before the new ones share their keys
    _set_shelf(room, products)
    session.flush()
    return room


def do_set_cover(
    session: Session, backend: Storage, room: LiveRoom, stream: IO[bytes]
) -> str | None:
    """Store the new cover; returns the old cover's key, to delete once this is committed."""
    old = room.cover
    room.cover = store_image(
        session, backend, stream, prefix=f"{room.storage_prefix}cover-", max_side=COVER_MAX_SIDE
    )
    if old is None:
        return None
    session.flush()  # the room lets go of the old object before it is deleted
    session.delete(old)
    session.flush()
    return old.key


# Going live and ending ----------------------------------------------------------------------------


def _transition(room: LiveRoom, wanted: str) -> None:
    try:
        room.state = rules.check_transition(room.state, wanted)
    except rules.IllegalTransition as exc:
        messages = {
            rules.LIVE: _("This room cannot go live: it is %(state)s.", state=room.state),
            rules.ENDED: _("This live has already ended."),
        }
        raise Conflict(messages[wanted], code="illegal_transition") from exc


def do_go_live(session: Session, room: LiveRoom, now: datetime) -> LiveRoom:
    _transition(room, rules.LIVE)
    room.started_at = now
    session.flush()
    publish_state(session, room)
    return room


def do_end_room(session: Session, room: LiveRoom, now: datetime) -> LiveRoom:
    """End the show (or call off a scheduled one); pins close so the replay timeline is whole.

    The pins still up are marked closed by the end: the replay keeps them to its last frame.
    """
    # Two Ends can race (the control page sends End over the ingest socket and the API at once):
    # without the lock the second read "live", overwrote ended_at, and the pins kept the first.
    _lock_room(session, room)
    _transition(room, rules.ENDED)
    room.ended_at = now
    session.execute(
        update(LivePin)
        .where(LivePin.room_id == room.id, LivePin.unpinned_at.is_(None))
        .values(unpinned_at=now, closed_by_end=True)
        .execution_options(synchronize_session=False)
    )
    selling.do_close_room_flash_sales(session, room, now)
    session.flush()
    publish_state(session, room)
    publish_pins(session, room, now)
    return room


# Stream keys --------------------------------------------------------------------------------------


def hash_stream_key(key: str) -> str:
    # The key carries 192 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def do_rotate_stream_key(room: LiveRoom, now: datetime) -> str:
    """Make a new key, keep only its hash, and return the key this once."""
    if room.state == rules.ENDED:
        raise Conflict(_("This live has ended: it needs no stream key."), code="ended")
    key = f"{room.public_id}{KEY_SEPARATOR}{secrets.token_urlsafe(24)}"
    room.stream_key_hash = hash_stream_key(key)
    room.stream_key_rotated_at = now
    return key


def authorize_stream_key(session: Session, key: str) -> str | None:
    """The room id (its public id, as the media layer names rooms) a key may publish to, or None."""
    if not key or len(key) > MAX_STREAM_KEY_LENGTH or KEY_SEPARATOR not in key:
        return None
    public_id = key.split(KEY_SEPARATOR, 1)[0]
    room = session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
    if room is None or room.stream_key_hash is None or room.state == rules.ENDED:
        return None
    if not hmac.compare_digest(hash_stream_key(key), room.stream_key_hash):
        return None
    return room.public_id


# Pins ---------------------------------------------------------------------------------------------


def check_on_shelf(room: LiveRoom, product_id: int) -> None:
    if product_id not in {item.product_id for item in room.shelf}:
        raise ValidationFailed(
            _("That product is not on this room's shelf."),
            fields={"product_id": _("Not on the shelf.")},
        )


def _lock_room(session: Session, room: LiveRoom) -> None:
    """Take the room row's write lock first (both engines) and read the room again under it.

    Pins, flash sales and End then serialise: two pins cannot both see 2 open, and none of them
    acts on a state read before a concurrent End committed. Bumps pins_version (every caller
    changes the pins).
    """
    session.execute(
        update(LiveRoom)
        .where(LiveRoom.id == room.id)
        .values(pins_version=LiveRoom.pins_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(room, ["pins_version", "state", "ended_at"])


def do_pin(
    session: Session, room: LiveRoom, actor: User, product_id: int, now: datetime
) -> LivePin:
    check_on_shelf(room, product_id)
    product = session.get(Product, product_id)
    if product is None or not product.is_active:
        raise ValidationFailed(
            _("That product does not exist or is not on sale."),
            fields={"product_id": _("Unknown product.")},
        )
    _lock_room(session, room)
    if room.state == rules.ENDED:  # read under the lock: a pin never opens after End closed all
        raise Conflict(_("This live has ended."), code="ended")
    pinned = [pin.product_id for pin in open_pins(session, room)]
    try:
        rules.check_pin(pinned, product_id)
    except rules.PinRefused as exc:
        if exc.code == "already_pinned":
            raise Conflict(_("This product is already pinned."), code=exc.code) from exc
        raise Conflict(
            _("At most %(n)d products can be pinned at once: unpin one first.", n=rules.MAX_PINS),
            code=exc.code,
        ) from exc
    pin = LivePin(
        room_id=room.id,
        product_id=product_id,
        pinned_by_id=actor.id,
        pinned_at=now,
        product=product,
    )
    session.add(pin)
    session.flush()
    publish_pins(session, room, now)
    return pin


def do_unpin(session: Session, room: LiveRoom, product_id: int, now: datetime) -> LivePin:
    _lock_room(session, room)
    pin = next((p for p in open_pins(session, room) if p.product_id == product_id), None)
    if pin is None:
        raise NotFound(_("This product is not pinned."))
    pin.unpinned_at = now
    session.flush()
    publish_pins(session, room, now)
    return pin


def do_start_flash_sale(
    session: Session, room: LiveRoom, actor: User, data: LiveFlashSaleIn, now: datetime
) -> FlashSale:
    _lock_room(session, room)  # End closes the room's flash sales: none may start beside it
    _pin, flash = selling.create_room_flash_sale(session, room, actor, data, now)
    publish_pins(session, room, now)
    return flash


def do_announce_product_flash(session: Session, product_id: int, now: datetime) -> None:
    """A flash sale scheduled outside any room: live rooms featuring the product show it now."""
    rooms = session.scalars(
        select(LiveRoom)
        .join(LiveShelfItem, LiveShelfItem.room_id == LiveRoom.id)
        .where(LiveShelfItem.product_id == product_id, LiveRoom.state == rules.LIVE)
        .order_by(LiveRoom.id)
    ).all()
    for room in rooms:
        _lock_room(session, room)
        publish_pins(session, room, now)


def count_open_pins(session: Session, room: LiveRoom) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LivePin)
            .where(LivePin.room_id == room.id, LivePin.unpinned_at.is_(None))
        )
        or 0
    )

"""LIVE vouchers: the host pins one of her coupons, or one a merchant made for her, in her room;
viewers see a card and claim it while the room is live. The room hears of a pin over Socket.IO
after the commit."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import column, func, or_, select, table, update
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.coupons import rules
from commerce.coupons.claims import pinned_voucher, task_wait
from commerce.coupons.models import ACTIVE, Coupon, CouponTemplate, LiveVoucher, RoomPresence
from commerce.coupons.present import template_out
from commerce.coupons.schemas import LiveVoucherOut
from commerce.coupons.services import held_counts
from commerce.errors import Conflict, NotFound
from commerce.live.fanout import channel
from commerce.live.models import LiveRoom
from commerce.locking import insert_ignore
from commerce.realtime import publish

LIVE = "live"
_orders = table("orders", column("id"), column("total_minor"), column("paid_at"))


def pinnable(session: Session, host: User, now: datetime) -> list[CouponTemplate]:
    """What the host may pin now: her shop's coupons and those made for her, active, claimable."""
    query = (
        select(CouponTemplate)
        .where(
            or_(
                (CouponTemplate.owner_id == host.id) & (CouponTemplate.funded_by == rules.MERCHANT),
                (CouponTemplate.scope == rules.CREATOR) & (CouponTemplate.creator_id == host.id),
            ),
            CouponTemplate.state == ACTIVE,
            CouponTemplate.claim_ends_at > now,
        )
        .order_by(CouponTemplate.id.desc())
        .limit(200)
    )
    return list(session.scalars(query))  # the SQL form of rules.may_pin


def _may_pin(host: User, template: CouponTemplate) -> bool:
    return rules.may_pin(
        host.id, template.owner_id, template.funded_by, template.scope, template.creator_id
    )


def access_pinnable(session: Session, template_id: int, host: User) -> CouponTemplate:
    template = session.get(CouponTemplate, template_id)
    if template is None or not _may_pin(host, template):
        raise NotFound(_("This coupon does not exist or is not yours to pin."))
    return template


def do_pin_voucher(
    session: Session, room: LiveRoom, host: User, template: CouponTemplate, now: datetime
) -> LiveVoucher:
    """Pin (replacing the voucher pinned before): the host's own coupons or those made for her."""
    if not _may_pin(host, template):
        raise Conflict(_("You can pin only your own coupons."), code="not_yours")
    if template.state != ACTIVE or template.claim_ends_at <= now:
        raise Conflict(_("This coupon cannot be claimed any more."), code="not_claimable")
    if room.state == "ended":
        raise Conflict(_("This live has ended."), code="ended")
    _unpin(session, room, now)
    voucher = LiveVoucher(room_id=room.id, template_id=template.id, pinned_at=now)
    session.add(voucher)
    session.flush()
    _publish(session, room, voucher)
    return voucher


def _unpin(session: Session, room: LiveRoom, now: datetime) -> bool:
    result = session.execute(
        update(LiveVoucher)
        .where(LiveVoucher.room_id == room.id, LiveVoucher.unpinned_at.is_(None))
        .values(unpinned_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def do_unpin_voucher(session: Session, room: LiveRoom, now: datetime) -> None:
    if _unpin(session, room, now):
        _publish(session, room, None)


def _publish(session: Session, room: LiveRoom, voucher: LiveVoucher | None) -> None:
    """Viewers fetch the card themselves (it is personal: held, task progress)."""
    payload = {"room": room.public_id, "template_id": voucher.template_id if voucher else None}
    publish(session, "live.voucher", payload, room=channel(room.public_id))


def record_presence(session: Session, room: LiveRoom, user: User, now: datetime) -> None:
    """The first time the server sees this viewer in the live room (watch tasks count from it)."""
    if room.state == LIVE:
        insert_ignore(
            session,
            RoomPresence,
            {"room_id": room.id, "user_id": user.id, "first_seen_at": now},
        )


def voucher_card(
    session: Session, room: LiveRoom, user: User | None, now: datetime
) -> LiveVoucherOut:
    pin = pinned_voucher(session, room)
    if pin is None:
        return LiveVoucherOut(room=room.public_id, pinned=False, live=room.state == LIVE)
    template = pin.template
    done, wait = (True, 0)
    if user is not None:
        done, wait = task_wait(session, template, room, user, now)
    held = held_counts(session, user, [template.id]).get(template.id, 0)
    return LiveVoucherOut(
        room=room.public_id,
        pinned=True,
        template=template_out(session, template, held),
        live=room.state == LIVE,
        task=template.task,
        task_done=done,
        seconds_to_wait=wait,
        held=held,
        server_now=now,
    )


def gmv_by_template(session: Session, template_ids: list[int]) -> dict[int, int]:
    """What the paid orders that used each coupon template paid."""
    if not template_ids:
        return {}
    rows = session.execute(
        select(Coupon.template_id, func.sum(_orders.c.total_minor))
        .join(_orders, _orders.c.id == Coupon.order_id)
        .where(Coupon.template_id.in_(template_ids), _orders.c.paid_at.is_not(None))
        .group_by(Coupon.template_id)
    )
    return {template_id: int(total or 0) for template_id, total in rows.all()}

"""Points as the API and pages show them: the rules generated from the settings, and what each
ledger entry was for, in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from commerce.money import format_money
from commerce.points import rules
from commerce.points.models import (
    CHECKIN,
    EXPIRE,
    GRANT,
    PURCHASE,
    PURCHASE_BACK,
    SHARE,
    SHARE_BACK,
    SPEND,
    SPEND_BACK,
    PointsEntry,
    PointsHold,
)
from commerce.points.schemas import EntryOut, HeldOut, PointsOut
from commerce.points.services import Summary

# Orders sit above points: their table is named here, never imported.
_orders = table("orders", column("id"), column("public_id"))


def kind_label(kind: str) -> str:
    labels = {
        CHECKIN: _("Daily check-in"),
        PURCHASE: _("Purchase"),
        PURCHASE_BACK: _("Purchase refunded"),
        SHARE: _("Purchase through your share link"),
        SHARE_BACK: _("Purchase through your link refunded"),
        SPEND: _("Used at checkout"),
        SPEND_BACK: _("Given back (order cancelled or refunded)"),
        EXPIRE: _("Expired"),
        GRANT: _("Added by LiveShop"),
    }
    return labels.get(kind, kind)


def worth(points: int, terms: rules.Terms) -> str:
    return format_money(rules.discount_for(points, terms), terms.currency)


def rules_text(terms: rules.Terms) -> list[str]:
    """How points are earned and spent, generated from the settings (shown before anyone takes
    part, promotions.md principle 5)."""
    major = format_money(terms.minor_per_major, terms.currency)
    text = []
    if terms.earn_per_major:
        text.append(
            _(
                "Buy something: %(points)s points for every %(major)s you paid, rounded down "
                "per item.",
                points=terms.earn_per_major,
                major=major,
            )
        )
    if terms.share_per_major:
        text.append(
            _(
                "Someone buys through your share link: %(points)s points for every %(major)s "
                "they paid (only the person whose link they opened; nothing for sharing itself).",
                points=terms.share_per_major,
                major=major,
            )
        )
    if terms.earn_per_major or terms.share_per_major:
        text.append(
            _(
                "Points for purchases can be used %(days)s days after delivery, when the return "
                "window has passed. A refund before then lowers or cancels them; a refund after "
                "takes them back from your balance (never below zero).",
                days=terms.hold_days,
            )
        )
    if terms.checkin_points:
        text.append(
            _(
                "Check in once a day: %(points)s points, %(step)s more for each day in a row "
                "(up to %(most)s a day).",
                points=terms.checkin_points,
                step=terms.streak_step,
                most=rules.checkin_award(terms.streak_days + 1, terms),
            )
        )
    text.append(
        _(
            "At checkout, %(rate)s points take %(major)s off. Points pay at most %(percent)s "
            "of an order, after coupons; every item keeps at least %(unit)s to pay.",
            rate=terms.spend_rate,
            major=major,
            percent=f"{terms.max_order_bp / 100:g}%",
            unit=format_money(1, terms.currency),
        )
    )
    if terms.max_order_points:
        text.append(_("At most %(points)s points per order.", points=terms.max_order_points))
    text.append(
        _(
            "Points used on an order come back if it is cancelled, and in proportion if it is "
            "refunded. Points are earned and used on orders in %(currency)s only.",
            currency=terms.currency,
        )
    )
    if terms.expire_days:
        text.append(
            _(
                "Points expire %(days)s days after they are credited; the soonest-expiring are "
                "used first. Points given back take the latest date among the points they "
                "replace.",
                days=terms.expire_days,
            )
        )
    else:
        text.append(_("Points do not expire."))
    text.append(_("Points have no cash value and cannot be transferred."))
    return text


def order_public_ids(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(_orders.c.id, _orders.c.public_id).where(_orders.c.id.in_(wanted))
    )
    return {int(i): str(p) for i, p in rows}


def entries_out(session: Session, entries: list[PointsEntry]) -> list[EntryOut]:
    public = order_public_ids(session, (e.order_id for e in entries))
    return [
        EntryOut(
            id=e.id,
            kind=e.kind,
            label=kind_label(e.kind),
            amount=e.amount,
            balance_after=e.balance_after,
            shortfall=e.shortfall,
            order_id=public.get(e.order_id or 0),
            expires_at=e.expires_at if e.amount > 0 else None,
            created_at=e.created_at,
        )
        for e in entries
    ]


def held_out(session: Session, holds: list[PointsHold]) -> list[HeldOut]:
    public = order_public_ids(session, (h.order_id for h in holds))
    return [
        HeldOut(
            kind=h.kind,
            label=kind_label(h.kind),
            amount=h.amount,
            order_id=public.get(h.order_id),
            available_at=h.hold_until,
        )
        for h in holds
    ]


def points_out(
    session: Session, found: Summary, holds: list[PointsHold], terms: rules.Terms
) -> PointsOut:
    return PointsOut(
        balance=found.balance,
        pending=found.pending,
        expiring_soon=found.expiring,
        expiring_before=found.expiring_before,
        checked_in_today=found.checked_in_today,
        streak=found.streak,
        next_checkin_points=found.next_checkin_points,
        spend_rate=terms.spend_rate,
        currency=terms.currency,
        held=held_out(session, holds),
        rules=rules_text(terms),
    )

"""Fraud signals on a paid order: flag them, and hold the commissions they touch for review.

Flags are never silent drops: the commission is still created and accrued, but `review=held`
keeps it from being released until a platform admin approves or rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.attribution.models import (
    REVIEW_HELD,
    REVIEW_NONE,
    Commission,
    FraudFlag,
    Share,
    ShareClick,
)
from commerce.orders.models import Order, OrderLine

SAME_EMAIL = "same_email"
SAME_PHONE = "same_phone"
SAME_DEVICE = "same_device"
IP_BURST = "ip_burst"
CLICK_VELOCITY = "click_velocity"
ORDER_VELOCITY = "order_velocity"
AD_CLICK = "ad_click"
BANNED_PAYEE = "banned_payee"
BANNED_SHARER = "banned_sharer"  # not a signal: the record that an admin banned a sharer

FLAG_KINDS = (
    SAME_EMAIL,
    SAME_PHONE,
    SAME_DEVICE,
    IP_BURST,
    CLICK_VELOCITY,
    ORDER_VELOCITY,
    AD_CLICK,
    BANNED_PAYEE,
)


@dataclass(frozen=True)
class FraudSettings:
    ip_orders: int = 5  # referred paid orders from one IP within ip_window flag the next ones
    ip_window: timedelta = timedelta(hours=24)
    velocity_factor: int = 10  # last hour's clicks above factor x the hourly baseline...
    velocity_min_clicks: int = 20  # ...and above this floor
    velocity_min_orders: int = 5  # orders won by one share in the last hour, same factor
    baseline: timedelta = timedelta(days=7)


DEFAULTS = FraudSettings()


def settings_from_config(config: Mapping[str, Any]) -> FraudSettings:
    return FraudSettings(
        ip_orders=config["FRAUD_IP_ORDERS"],
        ip_window=timedelta(hours=config["FRAUD_IP_WINDOW_HOURS"]),
        velocity_factor=config["FRAUD_VELOCITY_FACTOR"],
        velocity_min_clicks=config["FRAUD_VELOCITY_MIN_CLICKS"],
        velocity_min_orders=config["FRAUD_VELOCITY_MIN_ORDERS"],
        baseline=timedelta(days=config["FRAUD_BASELINE_DAYS"]),
    )


def normalise_email(email: str | None) -> str:
    """Lower case, no +tag; Gmail ignores dots. a.b+x@gmail.com == ab@googlemail.com."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def normalise_phone(phone: str | None) -> str:
    """Digits only, the last 11 (a CN mobile number without +86 / 0086)."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-11:] if len(digits) >= 7 else ""


@dataclass(frozen=True)
class Signal:
    kind: str
    subject: str
    user_id: int | None  # the payee it is about, or None for the whole order's sharer credit
    share_id: int | None
    detail: str


def _payee_signals(session: Session, order: Order, buyer: User, payee: User) -> list[Signal]:
    """Does the buyer look like the payee? Account ids differ, but people make second accounts."""
    found: list[Signal] = []
    subject = f"order:{order.id}:user:{payee.id}"
    email = normalise_email(buyer.email)
    if email and email == normalise_email(payee.email):
        found.append(Signal(SAME_EMAIL, subject, payee.id, None, email))
    phone = normalise_phone(buyer.phone)
    if phone and phone == normalise_phone(payee.phone):
        found.append(Signal(SAME_PHONE, subject, payee.id, None, "phone ends " + phone[-4:]))
    if order.device_id:
        shared_from = session.scalar(
            select(Share.id).where(Share.sharer_id == payee.id, Share.device_id == order.device_id)
        )
        clicked_from = session.scalar(
            select(ShareClick.id).where(
                ShareClick.user_id == payee.id, ShareClick.visitor_id == order.device_id
            )
        )
        if shared_from is not None or clicked_from is not None:
            found.append(Signal(SAME_DEVICE, subject, payee.id, shared_from, "same browser"))
    return found


def same_person_signals(session: Session, order_id: int, payee_id: int) -> list[str]:
    """The kinds of signal that the order's buyer is the payee under another account."""
    order, payee = session.get(Order, order_id), session.get(User, payee_id)
    buyer = session.get(User, order.buyer_id) if order is not None else None
    if order is None or payee is None or buyer is None:
        return []
    return [signal.kind for signal in _payee_signals(session, order, buyer, payee)]


def _order_signals(
    session: Session, order: Order, now: datetime, settings: FraudSettings
) -> list[Signal]:
    found: list[Signal] = []
    clicks = [
        session.get(ShareClick, line.click_id) for line in order.lines if line.click_id is not None
    ]
    if not clicks:
        return found
    if order.ip_hash:
        referred = session.scalar(
            select(func.count(distinct(Order.id)))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                Order.ip_hash == order.ip_hash,
                Order.id != order.id,
                Order.paid_at.is_not(None),
                Order.paid_at > now - settings.ip_window,
                OrderLine.click_id.is_not(None),
            )
        )
        if (referred or 0) + 1 > settings.ip_orders:
            detail = f"{(referred or 0) + 1} referred orders from one network"
            found.append(Signal(IP_BURST, f"order:{order.id}", None, None, detail))
    for click in {c.id: c for c in clicks if c is not None}.values():
        if click.ad_click_id:
            found.append(
                Signal(AD_CLICK, f"order:{order.id}:click:{click.id}", None, click.share_id, "")
            )
        last_hour = _clicks_between(session, click.share_id, now - timedelta(hours=1), now)
        before = _clicks_between(
            session, click.share_id, now - settings.baseline, now - timedelta(hours=1)
        )
        hourly = before / max(settings.baseline.total_seconds() / 3600 - 1, 1)
        if last_hour >= settings.velocity_min_clicks and last_hour > settings.velocity_factor * (
            hourly
        ):
            detail = f"{last_hour} clicks in the last hour, baseline {hourly:.1f}/h"
            subject = f"order:{order.id}:share:{click.share_id}"
            found.append(Signal(CLICK_VELOCITY, subject, None, click.share_id, detail))
        recent_orders = _orders_between(session, click.share_id, now - timedelta(hours=1), now)
        earlier = _orders_between(
            session, click.share_id, now - settings.baseline, now - timedelta(hours=1)
        )
        hourly = earlier / max(settings.baseline.total_seconds() / 3600 - 1, 1)
        if recent_orders >= settings.velocity_min_orders and recent_orders > (
            settings.velocity_factor * hourly
        ):
            detail = f"{recent_orders} orders in the last hour, baseline {hourly:.1f}/h"
            subject = f"order:{order.id}:share-orders:{click.share_id}"
            found.append(Signal(ORDER_VELOCITY, subject, None, click.share_id, detail))
    return found


def _orders_between(session: Session, share_id: int, start: datetime, end: datetime) -> int:
    """Paid orders whose winning click came through the share (this order included)."""
    return (
        session.scalar(
            select(func.count(distinct(Order.id)))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(ShareClick, ShareClick.id == OrderLine.click_id)
            .where(ShareClick.share_id == share_id, Order.paid_at > start, Order.paid_at <= end)
        )
        or 0
    )


def _clicks_between(session: Session, share_id: int, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ShareClick)
            .where(ShareClick.share_id == share_id, ShareClick.at > start, ShareClick.at <= end)
        )
        or 0
    )


def _banned(session: Session, user_ids: Iterable[int]) -> set[int]:
    subjects = {f"user:{uid}": uid for uid in user_ids}
    rows = session.scalars(
        select(FraudFlag.subject).where(
            FraudFlag.kind == BANNED_SHARER, FraudFlag.subject.in_(list(subjects))
        )
    )
    return {subjects[s] for s in rows}


def flags_for_order(
    session: Session,
    order: Order,
    commissions: list[Commission],
    now: datetime,
    settings: FraudSettings = DEFAULTS,
) -> list[FraudFlag]:
    """Flag the order's signals and set `review=held` on the commissions they touch.

    Called by crediting in the transaction that marks the order paid; idempotent (one flag per
    kind and subject). Payee signals hold that payee's commissions; order-wide signals (IP
    bursts, click velocity, ad click ids) hold every sharer commission on the order.
    """
    paid = [c for c in commissions if c.amount_minor > 0]
    if not paid:
        return []
    buyer = session.get(User, order.buyer_id)
    assert buyer is not None
    signals: list[Signal] = []
    payees = {c.user_id for c in paid}
    for payee_id in sorted(payees - {buyer.id}):
        payee = session.get(User, payee_id)
        if payee is not None:
            signals.extend(_payee_signals(session, order, buyer, payee))
    for payee_id in sorted(_banned(session, payees)):
        subject = f"order:{order.id}:user:{payee_id}"
        signals.append(Signal(BANNED_PAYEE, subject, payee_id, None, ""))
    signals.extend(_order_signals(session, order, now, settings))

    flags: list[FraudFlag] = []
    for signal in signals:
        flag = session.scalar(
            select(FraudFlag).where(
                FraudFlag.kind == signal.kind, FraudFlag.subject == signal.subject
            )
        )
        if flag is None:
            flag = FraudFlag(
                kind=signal.kind,
                subject=signal.subject,
                order_id=order.id,
                share_id=signal.share_id,
                user_id=signal.user_id,
                detail=signal.detail,
                created_at=now,
            )
            session.add(flag)
        flags.append(flag)
        for commission in paid:
            touched = (
                commission.user_id == signal.user_id
                if signal.user_id is not None
                else commission.role == "sharer"
            )
            if touched and commission.review == REVIEW_NONE:
                commission.review = REVIEW_HELD
    session.flush()
    return flags

"""Points at checkout: after the coupons, take up to the points the buyer asked for off each
order within its caps, split over the lines, and debit them atomically with the order.

Called by orders.services.do_place_orders (open_wallet before the orders, apply_points after
each order's coupons, redeem once the orders have ids) and by the drawer's quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commerce.errors import Conflict
from commerce.points import ledger, rules
from commerce.points.models import SPEND


class LineLike(Protocol):
    amount_minor: int
    points_used: int
    points_discount_minor: int


class OrderLike(Protocol):
    id: int
    currency: str
    discount_minor: int
    points_used: int
    points_discount_minor: int

    @property
    def lines(self) -> Sequence[LineLike]: ...


@dataclass
class Wallet:
    """One checkout's points: what the buyer may still use, and the orders that used some."""

    buyer_id: int
    left: int
    balance: int
    terms: rules.Terms
    orders: list[Any] = field(default_factory=list)


def usable_balance(session: Session, buyer_id: int, now: datetime) -> int:
    """The balance less points whose date has come (the expiry job may not have run yet)."""
    return ledger.balance_of(session, buyer_id) - ledger.due_to_expire(session, buyer_id, now)


def open_wallet(
    session: Session, buyer_id: int, wanted: int | None, terms: rules.Terms | None, now: datetime
) -> Wallet | None:
    """None when no points are to be used. Points past their date go first (a check on read);
    asking for more than one holds is refused."""
    if not wanted or terms is None:
        return None
    ledger.do_expire_user(session, buyer_id, now)
    balance = ledger.balance_of(session, buyer_id)
    if wanted > balance:
        raise Conflict(
            _(
                "You have %(balance)s points; you asked to use %(wanted)s.",
                balance=balance,
                wanted=wanted,
            ),
            code="points_balance",
        )
    return Wallet(buyer_id=buyer_id, left=wanted, balance=balance, terms=terms)


def apply_points(order: OrderLike, wallet: Wallet | None) -> rules.Spend:
    """Take points off one order (its lines already carry the coupons' discounts)."""
    if wallet is None or wallet.left <= 0 or order.currency != wallet.terms.currency:
        return rules.Spend(0, 0)
    amounts = [line.amount_minor for line in order.lines]
    spend = rules.plan_spend(wallet.left, wallet.left, sum(amounts), len(amounts), wallet.terms)
    parts = rules.split(spend.discount_minor, spend.points, amounts)
    for line, (points, discount) in zip(order.lines, parts, strict=True):
        line.points_used, line.points_discount_minor = points, discount
        line.amount_minor -= discount
    order.points_used, order.points_discount_minor = spend.points, spend.discount_minor
    order.discount_minor += spend.discount_minor
    if spend.points:
        wallet.left -= spend.points
        wallet.orders.append(order)
    return spend


def redeem(session: Session, wallet: Wallet | None, now: datetime) -> None:
    """Debit each order's points: one conditional UPDATE (`balance >= points`) per order; a
    checkout that lost the race to another spending the same points is undone (409)."""
    if wallet is None:
        return
    spent = ledger.debits(session, wallet.buyer_id)
    for order in wallet.orders:
        spent += order.points_used
        try:
            entry = ledger.post(
                session,
                user_id=wallet.buyer_id,
                kind=SPEND,
                amount=-order.points_used,
                key=f"{SPEND}:{order.id}",
                now=now,
                order_id=order.id,
                expires_at=ledger.latest_expiry_used(session, wallet.buyer_id, spent),
            )
        except ledger.InsufficientPoints as exc:
            raise Conflict(
                _("Your points were just used by another order: check your balance and retry."),
                code="points_taken",
            ) from exc
        assert entry is not None  # a new order's id: never posted before


@dataclass
class PointsQuote:
    balance: int
    max_points: int  # the most this order could use
    points: int  # used with the points asked for
    discount_minor: int


def quote(
    line_amounts: Sequence[int], currency: str, balance: int, wanted: int, terms: rules.Terms
) -> PointsQuote:
    """What the drawer shows for one order: the most points it takes, and what `wanted` does."""
    if currency != terms.currency:
        return PointsQuote(balance, 0, 0, 0)
    total, count = sum(line_amounts), len(line_amounts)
    most = rules.plan_spend(balance, balance, total, count, terms)
    used = rules.plan_spend(wanted, balance, total, count, terms)
    return PointsQuote(balance, most.points, used.points, used.discount_minor)

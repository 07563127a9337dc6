"""Points use cases: the daily check-in, earnings held through the return window and credited
after it, expiry runs, the balance and the history (refunds: refunds.py).

Orders sit above this area: an order and its lines come in as duck-typed objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from commerce.errors import Conflict
from commerce.locking import insert_ignore
from commerce.order_signals import SHARE_VOID, SHARE_WAIT, share_reward_due
from commerce.pagination import decode_cursor, encode_cursor
from commerce.points import ledger, notices, rules
from commerce.points.models import (
    CANCELLED,
    CHECKIN,
    HELD,
    PURCHASE,
    RELEASED,
    SHARE,
    PointsAccount,
    PointsEntry,
    PointsHold,
)


class LineLike(Protocol):
    id: int
    amount_minor: int
    refunded_minor: int
    points_used: int
    chain: list[int] | None


class OrderLike(Protocol):
    id: int
    buyer_id: int
    currency: str

    @property
    def lines(self) -> Sequence[LineLike]: ...


def _rows(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def local_day(now: datetime, timezone: str) -> date:
    """The check-in day: `now` (naive UTC) in POINTS_TIMEZONE, or the server's own zone."""
    aware = now.replace(tzinfo=ZoneInfo("UTC"))
    return (aware.astimezone(ZoneInfo(timezone)) if timezone else aware.astimezone()).date()


# Check-in --------------------------------------------------------------------------------------


@dataclass
class CheckIn:
    points: int
    streak: int
    balance: int


def do_check_in(
    session: Session, user_id: int, now: datetime, terms: rules.Terms, timezone: str
) -> CheckIn:
    """One credit per person per day, whatever races: the entry's key names the day."""
    if terms.checkin_points <= 0:
        raise Conflict(_("Daily check-in is turned off."), code="checkin_off")
    today = local_day(now, timezone)
    key = f"{CHECKIN}:{user_id}:{today.isoformat()}"
    ledger.ensure_account(session, user_id)
    account = session.get(PointsAccount, user_id, populate_existing=True)
    assert account is not None
    if account.checkin_day == today or ledger.posted(session, key):
        raise Conflict(_("You have already checked in today."), code="checked_in")
    streak = rules.next_streak(account.checkin_day, account.streak, today)
    points = rules.checkin_award(streak, terms)
    entry = ledger.post(
        session,
        user_id=user_id,
        kind=CHECKIN,
        amount=points,
        key=key,
        now=now,
        expires_at=ledger.expiry(now, terms),
    )
    if entry is None:  # a double tap that lost the race
        raise Conflict(_("You have already checked in today."), code="checked_in")
    session.execute(
        update(PointsAccount)
        .where(PointsAccount.user_id == user_id)
        .values(checkin_day=today, streak=streak)
        .execution_options(synchronize_session=False)
    )
    return CheckIn(points=points, streak=streak, balance=entry.balance_after)


# Earning after the hold ------------------------------------------------------------------------


def do_hold_for_paid_order(
    session: Session, order: OrderLike, now: datetime, terms: rules.Terms
) -> int:
    """A paid order's lines earn the buyer points, and the level-1 sharer of a line bought
    through a share link; both wait for the return window. Once per line and kind."""
    if order.currency != terms.currency:
        return 0
    made = 0
    for line in order.lines:
        holds = [(PURCHASE, order.buyer_id, terms.earn_per_major)]
        sharer = line.chain[0] if line.chain else None
        if sharer is not None and sharer != order.buyer_id:  # never for one's own purchase
            holds.append((SHARE, sharer, terms.share_per_major))
        for kind, user_id, per_major in holds:
            amount = rules.earned(line.amount_minor, per_major, terms.minor_per_major)
            if amount > 0:
                made += insert_ignore(
                    session,
                    PointsHold,
                    {
                        "user_id": user_id,
                        "kind": kind,
                        "order_id": order.id,
                        "order_line_id": line.id,
                        "amount": amount,
                        "state": HELD,
                        "created_at": now,
                    },
                )
    return made


def do_start_hold(session: Session, order_id: int, now: datetime, terms: rules.Terms) -> int:
    """Delivery starts the return window: the order's held points become due after it."""
    return _rows(
        session.execute(
            update(PointsHold)
            .where(
                PointsHold.order_id == order_id,
                PointsHold.state == HELD,
                PointsHold.hold_until.is_(None),
            )
            .values(hold_until=now + timedelta(days=terms.hold_days))
            .execution_options(synchronize_session=False)
        )
    )


# A sharer's points whose commission is held for fraud review are looked at again after this.
REVIEW_AGAIN = timedelta(hours=1)


def _share_verdict(session: Session, hold: PointsHold) -> str | None:
    if hold.kind != SHARE:
        return None
    answers = share_reward_due.send(
        None, session=session, order_line_id=hold.order_line_id, sharer_id=hold.user_id
    )
    return rules.share_verdict([answer for _receiver, answer in answers])


def _set_held(session: Session, hold: PointsHold, **values: Any) -> int:
    return _rows(
        session.execute(
            update(PointsHold)
            .where(PointsHold.id == hold.id, PointsHold.state == HELD)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )


def do_release(session: Session, hold: PointsHold, now: datetime, terms: rules.Terms) -> bool:
    """Credit one hold whose window has passed, once (a conditional UPDATE on its state).

    A sharer's points follow her commission's fraud review of the same line: held, they wait;
    rejected, or the sharer banned, they are cancelled.
    """
    verdict = _share_verdict(session, hold)
    if verdict == SHARE_WAIT:
        _set_held(session, hold, hold_until=now + REVIEW_AGAIN)
        return False
    if verdict == SHARE_VOID:
        _set_held(session, hold, state=CANCELLED)
        return False
    if _set_held(session, hold, state=RELEASED, released_at=now) != 1:
        return False
    session.refresh(hold)
    ledger.post(
        session,
        user_id=hold.user_id,
        kind=hold.kind,
        amount=hold.amount,
        key=f"{hold.kind}:{hold.order_line_id}",
        now=now,
        order_id=hold.order_id,
        order_line_id=hold.order_line_id,
        expires_at=ledger.expiry(now, terms),
    )
    return True


def do_release_due(session: Session, now: datetime, terms: rules.Terms, limit: int = 500) -> int:
    """Credit the holds whose window has passed; each person credited is told once, with the
    sum of this run's credits (a purchase and a share together are one notice)."""
    due = session.scalars(
        select(PointsHold)
        .where(PointsHold.state == HELD, PointsHold.hold_until <= now, PointsHold.amount > 0)
        .order_by(PointsHold.hold_until, PointsHold.id)
        .limit(limit)
    ).all()
    released = 0
    credited: dict[int, tuple[int, int]] = {}  # user -> (first hold id, points) of this run
    for hold in due:
        if do_release(session, hold, now, terms):
            released += 1
            first, total = credited.get(hold.user_id, (hold.id, 0))
            credited[hold.user_id] = (min(first, hold.id), total + hold.amount)
    for user_id, (first, total) in sorted(credited.items()):
        notices.points_ready(session, user_id, total, first, now)
    return released


def do_expire_due(session: Session, now: datetime, limit: int = 500) -> int:
    """Everyone with credits whose date came since the last run: their points expire."""
    users = session.scalars(
        select(PointsEntry.user_id)
        .join(PointsAccount, PointsAccount.user_id == PointsEntry.user_id)
        .where(
            PointsEntry.amount > 0,
            PointsEntry.expires_at <= now,
            or_(
                PointsAccount.expired_through.is_(None),
                PointsEntry.expires_at > PointsAccount.expired_through,
            ),
        )
        .distinct()
        .limit(limit)
    ).all()
    for user_id in users:
        ledger.do_expire_user(session, user_id, now)
        session.execute(
            update(PointsAccount)
            .where(PointsAccount.user_id == user_id)
            .values(expired_through=now)
            .execution_options(synchronize_session=False)
        )
    return len(users)


# Reading ---------------------------------------------------------------------------------------


@dataclass
class Summary:
    balance: int  # usable now
    pending: int  # held for the return window
    expiring: int  # of the balance, expiring within `soon`
    expiring_before: datetime
    checked_in_today: bool
    streak: int
    next_checkin_points: int


def summary(
    session: Session,
    user_id: int,
    now: datetime,
    terms: rules.Terms,
    timezone: str,
    soon: timedelta = timedelta(days=30),
) -> Summary:
    account = session.get(PointsAccount, user_id, populate_existing=True)
    stored = account.balance if account else 0
    balance = stored - ledger.due_to_expire(session, user_id, now)
    expiring = ledger.due_to_expire(session, user_id, now + soon) - (stored - balance)
    pending = session.scalar(
        select(func.coalesce(func.sum(PointsHold.amount), 0)).where(
            PointsHold.user_id == user_id, PointsHold.state == HELD
        )
    )
    today = local_day(now, timezone)
    last = account.checkin_day if account else None
    streak = account.streak if account and last in (today, today - timedelta(days=1)) else 0
    done = last == today
    upcoming = streak + 1  # today's check-in, or tomorrow's after today's
    return Summary(
        balance=balance,
        pending=int(pending or 0),
        expiring=max(expiring, 0),
        expiring_before=now + soon,
        checked_in_today=done,
        streak=streak,
        next_checkin_points=rules.checkin_award(upcoming, terms) if terms.checkin_points else 0,
    )


def entries_page(
    session: Session, user_id: int, cursor: str | None, per_page: int = 20
) -> tuple[list[PointsEntry], str | None]:
    """Newest first, by keyset after `cursor`."""
    query = select(PointsEntry).where(PointsEntry.user_id == user_id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                PointsEntry.created_at < stamp,
                and_(PointsEntry.created_at == stamp, PointsEntry.id < ident),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc()).limit(per_page + 1)
        )
    )
    items = rows[:per_page]
    more = len(rows) > per_page
    return items, encode_cursor(items[-1].created_at, items[-1].id) if more else None


def held_points(session: Session, user_id: int, limit: int = 20) -> list[PointsHold]:
    return list(
        session.scalars(
            select(PointsHold)
            .where(PointsHold.user_id == user_id, PointsHold.state == HELD)
            .order_by(PointsHold.id.desc())
            .limit(limit)
        )
    )

"""The points ledger in the database: one conditional UPDATE of the balance and one appended entry
per event, in one savepoint; a business key already posted appends nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.locking import insert_ignore
from commerce.points import rules
from commerce.points.models import EXPIRE, PointsAccount, PointsEntry
from commerce.timeutil import utcnow


class InsufficientPoints(Exception):
    """A debit larger than the balance (another checkout spent them first)."""


def ensure_account(session: Session, user_id: int) -> None:
    insert_ignore(
        session,
        PointsAccount,
        {"user_id": user_id, "balance": 0, "streak": 0, "updated_at": utcnow()},
    )


def lock_account(session: Session, user_id: int) -> PointsAccount:
    """The account, locked until the transaction ends and re-read (SQLite: a no-op write makes
    this transaction the only writer; PostgreSQL: FOR UPDATE)."""
    ensure_account(session, user_id)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("UPDATE points_accounts SET balance = balance WHERE user_id = :u"), {"u": user_id}
        )
        account = session.get(PointsAccount, user_id, populate_existing=True)
    else:
        account = session.scalars(
            select(PointsAccount)
            .where(PointsAccount.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
    assert account is not None
    return account


def balance_of(session: Session, user_id: int) -> int:
    return int(
        session.scalar(select(PointsAccount.balance).where(PointsAccount.user_id == user_id)) or 0
    )


def posted(session: Session, key: str) -> bool:
    return session.scalar(select(PointsEntry.id).where(PointsEntry.key == key)) is not None


def post(
    session: Session,
    *,
    user_id: int,
    kind: str,
    amount: int,
    key: str,
    now: datetime,
    order_id: int | None = None,
    order_line_id: int | None = None,
    expires_at: datetime | None = None,
    shortfall: int = 0,
) -> PointsEntry | None:
    """Move the balance by `amount` and append the entry saying why; None when `key` was posted
    before (a replay, or a racing duplicate that lost). A debit beyond the balance raises
    InsufficientPoints and changes nothing."""
    if posted(session, key):
        return None
    ensure_account(session, user_id)
    try:
        with session.begin_nested():  # a racing duplicate fails alone, not the transaction
            row = session.execute(
                update(PointsAccount)
                .where(
                    PointsAccount.user_id == user_id,
                    PointsAccount.balance + amount >= 0,
                )
                .values(balance=PointsAccount.balance + amount, updated_at=now)
                .returning(PointsAccount.balance)
                .execution_options(synchronize_session=False)
            ).first()
            if row is None:
                raise InsufficientPoints(key)
            entry = PointsEntry(
                user_id=user_id,
                kind=kind,
                amount=amount,
                balance_after=int(row[0]),
                key=key,
                order_id=order_id,
                order_line_id=order_line_id,
                expires_at=expires_at,
                shortfall=shortfall,
                created_at=now,
            )
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    return entry


def expiry(now: datetime, terms: rules.Terms) -> datetime | None:
    """When a credit made now expires (None: never)."""
    return now + timedelta(days=terms.expire_days) if terms.expire_days else None


def _credits_due(session: Session, user_id: int, now: datetime) -> tuple[int, int | None]:
    total, last = session.execute(
        select(func.coalesce(func.sum(PointsEntry.amount), 0), func.max(PointsEntry.id)).where(
            PointsEntry.user_id == user_id,
            PointsEntry.amount > 0,
            PointsEntry.expires_at <= now,
        )
    ).one()
    return int(total), last


def debits(session: Session, user_id: int) -> int:
    return -int(
        session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.user_id == user_id, PointsEntry.amount < 0
            )
        )
        or 0
    )


def due_to_expire(session: Session, user_id: int, now: datetime) -> int:
    """Points whose date has come and that the job has not yet taken out (a read's check)."""
    due, _last = _credits_due(session, user_id, now)
    return rules.expiring(due, debits(session, user_id))


def do_expire_user(session: Session, user_id: int, now: datetime) -> int:
    """Take out the points whose date has come (FIFO: everything taken out so far counts
    against the soonest-expiring points). Keyed by the total of the credits due: two runs at
    once expire once, and a later run covers more (that total only grows). The newest credit's
    id would not do: a credit older by id but dated later falls due after it, and its run
    would have reused the earlier run's key and expired nothing (the property test found it)."""
    due, last = _credits_due(session, user_id, now)
    amount = rules.expiring(due, debits(session, user_id))
    if amount <= 0 or last is None:
        return 0
    entry = post(
        session,
        user_id=user_id,
        kind=EXPIRE,
        amount=-amount,
        key=f"expire:{user_id}:{due}",
        now=now,
    )
    return amount if entry is not None else 0


def latest_expiry_used(session: Session, user_id: int, upto: int) -> datetime | None:
    """The expiry of the credit that takes the running total of credits, soonest-expiring
    first, to `upto`: the latest expiry among the points a spend ending there used."""
    never_last = PointsEntry.expires_at.is_(None)
    running: Any = (
        func.sum(PointsEntry.amount)
        .over(order_by=(never_last, PointsEntry.expires_at, PointsEntry.id))
        .label("running")
    )
    inner = (
        select(PointsEntry.expires_at, running)
        .where(PointsEntry.user_id == user_id, PointsEntry.amount > 0)
        .subquery()
    )
    found = session.execute(
        select(inner.c.expires_at).where(inner.c.running >= upto).order_by(inner.c.running).limit(1)
    ).first()
    return found[0] if found is not None else None

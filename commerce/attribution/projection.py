"""The ledger's read model: each commission's state, payout allocations and payee balances.

`record` applies freshly appended entries in the appending transaction, under the per-payee lock
ledger.post takes, so the rows always match what the credit_state rule gives by replaying the
ledger (`verify` checks; `rebuild` rewrites them from the ledger). Pages read these rows instead
of replaying a payee's whole history on every view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from commerce.attribution.credit_state import (
    CreditState,
    Entry,
    Track,
    apply_to_track,
    credit_state,
    pays,
    replay,
    state_name,
    unpays,
)
from commerce.attribution.ledger_rules import BUCKETS
from commerce.attribution.models import (
    CommissionCredit,
    LedgerEntry,
    PayeeBalance,
    PayoutAllocation,
)

PAY_BATCH = 500  # commissions a payout covers per query


def entry_of(row: Any) -> Entry:
    return Entry(
        id=row.id,
        kind=row.kind,
        bucket=row.bucket,
        amount_minor=row.amount_minor,
        at=row.created_at,
        commission_id=row.commission_id,
        payout_id=row.payout_id,
    )


def track_of(row: CommissionCredit) -> Track:
    return Track(
        accrued=row.accrued_minor,
        released=row.released_minor,
        reversed_after_release=row.reversed_after_release_minor,
        reversed=row.reversed_minor,
        covered=row.covered_minor,
        accrued_at=row.accrued_at,
        released_at=row.released_at,
        reversed_at=row.reversed_at,
        paid_at=row.paid_at,
    )


def _columns(track: Track) -> dict[str, Any]:
    return {
        "state": state_name(track),
        "accrued_minor": track.accrued,
        "reversed_minor": track.reversed,
        "released_minor": track.released,
        "reversed_after_release_minor": track.reversed_after_release,
        "covered_minor": track.covered,
        "unpaid_minor": track.unpaid(),
        "accrued_at": track.accrued_at,
        "released_at": track.released_at,
        "reversed_at": track.reversed_at,
        "paid_at": track.paid_at,
    }


CREDIT_COLUMNS = (*_columns(Track()), "payee_id", "release_seq")


def _store(row: CommissionCredit, track: Track) -> None:
    for name, value in _columns(track).items():
        setattr(row, name, value)


def record(session: Session, payee_id: int, currency: str, rows: list[LedgerEntry]) -> None:
    """Project the entries one event just appended (flushed, so with ids). The caller holds the
    payee's lock (ledger.lock_payees): nothing else changes these rows until it commits."""
    balance = session.get(PayeeBalance, (payee_id, currency), populate_existing=True)
    if balance is None:
        balance = PayeeBalance(payee_id=payee_id, currency=currency)
        balance.pending_minor = balance.available_minor = 0
        balance.paid_minor = balance.cancelled_minor = 0
        session.add(balance)
    credits: dict[int, CommissionCredit] = {}
    for row in sorted(rows, key=lambda r: r.id):
        column = f"{row.bucket}_minor"
        setattr(balance, column, getattr(balance, column) + row.amount_minor)
        entry = entry_of(row)
        if entry.commission_id is not None:
            credit = credits.get(entry.commission_id) or _credit(session, entry.commission_id)
            credits[entry.commission_id] = credit
            if credit.payee_id is None:
                credit.payee_id = payee_id
            track = track_of(credit)
            if apply_to_track(track, entry) and credit.release_seq is None:
                credit.release_seq = entry.id
            _store(credit, track)
        elif pays(entry):
            _pay(session, payee_id, entry)
        elif unpays(entry):
            _unpay(session, entry)
    session.flush()


def _credit(session: Session, commission_id: int) -> CommissionCredit:
    credit = session.get(CommissionCredit, commission_id, populate_existing=True)
    if credit is None:
        credit = CommissionCredit(commission_id=commission_id)
        _store(credit, Track())
        session.add(credit)
    return credit


def _pay(session: Session, payee_id: int, entry: Entry) -> None:
    """First released, first paid: the payout covers the oldest unpaid released commissions."""
    amount = entry.amount_minor
    while amount > 0:
        session.flush()
        batch = session.scalars(
            select(CommissionCredit)
            .where(CommissionCredit.payee_id == payee_id, CommissionCredit.unpaid_minor > 0)
            .order_by(CommissionCredit.release_seq)
            .limit(PAY_BATCH)
            .execution_options(populate_existing=True)
        ).all()
        if not batch:
            return
        for credit in batch:
            if amount <= 0:
                break
            part = min(credit.unpaid_minor, amount)
            track = track_of(credit)
            track.covered += part
            if track.unpaid() <= 0:
                track.paid_at = entry.at
            _store(credit, track)
            session.add(
                PayoutAllocation(
                    payout_id=entry.payout_id, commission_id=credit.commission_id, amount_minor=part
                )
            )
            amount -= part


def _unpay(session: Session, entry: Entry) -> None:
    """A returned payout no longer covers what it paid."""
    allocations = session.scalars(
        select(PayoutAllocation).where(PayoutAllocation.payout_id == entry.payout_id)
    ).all()
    for allocation in allocations:
        credit = _credit(session, allocation.commission_id)
        track = track_of(credit)
        track.covered -= allocation.amount_minor
        track.paid_at = None
        _store(credit, track)
        session.delete(allocation)


def states_of(session: Session, commission_ids: Iterable[int]) -> dict[int, CreditState]:
    """{commission id: its state} from the stored rows (a missing row: nothing was ever due)."""
    ids = sorted(set(commission_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(CommissionCredit).where(CommissionCredit.commission_id.in_(ids))
    ).all()
    return {row.commission_id: credit_state(track_of(row)) for row in rows}


def balances_of(session: Session, payee_id: int) -> dict[str, dict[str, int]]:
    """{currency: {bucket: total}} from the stored sums."""
    rows = session.scalars(select(PayeeBalance).where(PayeeBalance.payee_id == payee_id)).all()
    return {row.currency: {b: getattr(row, f"{b}_minor") for b in BUCKETS} for row in rows}


# Replaying the ledger: the rows each payee's entries should leave (rebuild and verify).


@dataclass
class Expected:
    credits: dict[int, dict[str, Any]]
    allocations: dict[tuple[int, int], int]
    balances: dict[tuple[int, str], dict[str, int]]


def _payees_entries(
    conn: Connection, payee_ids: list[int] | None, chunk: int = 500
) -> Iterator[list[Any]]:
    """Each payee's entries in append order, a few hundred payees per query."""
    entries = LedgerEntry.__table__
    if payee_ids is None:
        payee_ids = list(conn.scalars(select(entries.c.payee_id).distinct()))
    payee_ids = sorted(set(payee_ids))
    for start in range(0, len(payee_ids), chunk):
        rows = conn.execute(
            select(entries)
            .where(entries.c.payee_id.in_(payee_ids[start : start + chunk]))
            .order_by(entries.c.payee_id, entries.c.id)
        ).all()
        for _payee, group in groupby(rows, key=lambda r: r.payee_id):
            yield list(group)


def expected(payee_id: int, rows: list[Any]) -> Expected:
    """What the stored rows of one payee must be, by the credit_state rule."""
    books = replay(entry_of(row) for row in rows)
    release_seq: dict[int, int] = {}
    balances: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for row in rows:
        balances[(payee_id, row.currency)][row.bucket] += row.amount_minor
        if row.kind == "release" and row.bucket == "available":
            release_seq.setdefault(row.commission_id, row.id)
    credits = {
        commission_id: {
            **_columns(track),
            "payee_id": payee_id,
            "release_seq": release_seq.get(commission_id),
        }
        for commission_id, track in books.tracks.items()
    }
    allocations = {
        (payout_id, commission_id): part
        for payout_id, shares in books.paid_by.items()
        for commission_id, part in shares
    }
    return Expected(credits, allocations, dict(balances))


def rebuild(conn: Connection, payee_ids: list[int] | None = None, batch: int = 5_000) -> int:
    """Rewrite the rows of these payees (all if None) from the ledger; returns the payees done."""
    credits_t = CommissionCredit.__table__
    allocations_t = PayoutAllocation.__table__
    balances_t = PayeeBalance.__table__
    if payee_ids is None:
        for table in (allocations_t, credits_t, balances_t):
            conn.execute(delete(table))
    else:
        payouts = select(LedgerEntry.payout_id).where(LedgerEntry.payee_id.in_(payee_ids))
        conn.execute(delete(allocations_t).where(allocations_t.c.payout_id.in_(payouts)))
        conn.execute(delete(credits_t).where(credits_t.c.payee_id.in_(payee_ids)))
        conn.execute(delete(balances_t).where(balances_t.c.payee_id.in_(payee_ids)))
    pending: dict[Any, list[dict[str, Any]]] = {credits_t: [], allocations_t: [], balances_t: []}

    def flush(force: bool = False) -> None:
        for table, values in pending.items():
            if values and (force or len(values) >= batch):
                conn.execute(insert(table), values)
                values.clear()

    done = 0
    for rows in _payees_entries(conn, payee_ids):
        payee_id = rows[0].payee_id
        want = expected(payee_id, rows)
        pending[credits_t] += [{"commission_id": c, **v} for c, v in want.credits.items()]
        pending[allocations_t] += [
            {"payout_id": p, "commission_id": c, "amount_minor": part}
            for (p, c), part in want.allocations.items()
        ]
        pending[balances_t] += [
            {"payee_id": payee, "currency": currency, **{f"{b}_minor": v for b, v in sums.items()}}
            for (payee, currency), sums in want.balances.items()
        ]
        done += 1
        flush()
    flush(force=True)
    return done


def verify(conn: Connection, payee_ids: list[int] | None = None) -> list[str]:
    """Differences between the stored rows and a replay of the ledger (none when consistent)."""
    credits_t = CommissionCredit.__table__
    allocations_t = PayoutAllocation.__table__
    balances_t = PayeeBalance.__table__
    problems: list[str] = []
    seen: set[int] = set()
    for rows in _payees_entries(conn, payee_ids):
        payee_id = rows[0].payee_id
        seen.add(payee_id)
        want = expected(payee_id, rows)
        stored = {
            row.commission_id: {k: row._mapping[k] for k in CREDIT_COLUMNS}
            for row in conn.execute(select(credits_t).where(credits_t.c.payee_id == payee_id))
        }
        for commission_id in want.credits.keys() | stored.keys():
            if want.credits.get(commission_id) != stored.get(commission_id):
                problems.append(
                    f"commission {commission_id}: stored {stored.get(commission_id)}, "
                    f"ledger {want.credits.get(commission_id)}"
                )
        payouts = {p for p, _c in want.allocations}
        got_allocations = {
            (row.payout_id, row.commission_id): row.amount_minor
            for row in conn.execute(
                select(allocations_t).where(
                    allocations_t.c.commission_id.in_(
                        select(credits_t.c.commission_id).where(credits_t.c.payee_id == payee_id)
                    )
                )
            )
        }
        if got_allocations != want.allocations:
            problems.append(f"payee {payee_id}: payout allocations differ (payouts {payouts})")
        got_balances = {
            (row.payee_id, row.currency): {b: row._mapping[f"{b}_minor"] for b in BUCKETS}
            for row in conn.execute(select(balances_t).where(balances_t.c.payee_id == payee_id))
        }
        if got_balances != want.balances:
            problems.append(f"payee {payee_id}: balances {got_balances}, ledger {want.balances}")
    orphans = select(credits_t.c.payee_id).distinct()
    if payee_ids is not None:
        orphans = orphans.where(credits_t.c.payee_id.in_(payee_ids))
    for (payee_id,) in conn.execute(orphans):
        if payee_id not in seen:
            problems.append(f"payee {payee_id}: stored credits without ledger entries")
    return problems

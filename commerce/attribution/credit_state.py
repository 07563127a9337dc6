"""What happened to each commission, read from the ledger: a pure function over a payee's entries.

A commission's own entries say when it accrued, was released and was reversed (refund or
rejection). Payouts are not per commission: they move a sum out of the available balance. Which
commissions a payout paid is decided first in, first out: each payout pays the commissions
released earliest that are not yet paid (what was released, less what a refund took back since);
a payout the provider returned un-pays what it paid.

Entries apply in the order they were appended (by id): ledger.post appends a payee's entries
under a per-payee lock, so that order is the one the payouts were decided in, and it is the order
the stored projection (projection.py) applied them in as they were written.

States:
- pending: accrued, waiting for the hold after delivery (part may already be refunded);
- available: released, not (fully) covered by a payout;
- paid: released and covered by payouts;
- cancelled: reduced to zero before release (full refund, rejection, a banned sharer);
- clawed_back: reduced to zero after it was released (available or paid): netted against later
  earnings;
- no_pay: credit without money (own purchase, beyond the paid depth, a zero rate or cap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

PENDING = "pending"
AVAILABLE = "available"
PAID = "paid"
CANCELLED = "cancelled"
CLAWED_BACK = "clawed_back"
NO_PAY = "no_pay"
STATES = (PENDING, AVAILABLE, PAID, CANCELLED, CLAWED_BACK, NO_PAY)


@dataclass(frozen=True)
class Entry:
    """One ledger row, as this rule needs it (entries of one payee, any order)."""

    id: int
    kind: str  # accrue | release | refund | reject | payout | payout_failed
    bucket: str
    amount_minor: int
    at: datetime
    commission_id: int | None = None
    payout_id: int | None = None


@dataclass
class CreditState:
    state: str
    amount_minor: int  # what the commission is worth now, after reversals
    accrued_minor: int
    accrued_at: datetime | None = None
    released_at: datetime | None = None
    reversed_at: datetime | None = None
    paid_at: datetime | None = None


@dataclass
class Track:
    accrued: int = 0
    released: int = 0
    reversed_after_release: int = 0
    reversed: int = 0
    covered: int = 0
    accrued_at: datetime | None = None
    released_at: datetime | None = None
    reversed_at: datetime | None = None
    paid_at: datetime | None = None

    def unpaid(self) -> int:
        return self.released - self.reversed_after_release - self.covered


@dataclass
class Books:
    tracks: dict[int, Track] = field(default_factory=dict)
    released_order: dict[int, None] = field(default_factory=dict)  # an ordered set
    paid_by: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # payout -> shares

    def pay(self, payout_id: int, amount: int, at: datetime) -> None:
        shares = self.paid_by.setdefault(payout_id, [])
        for commission_id in self.released_order:
            if amount <= 0:
                break
            track = self.tracks[commission_id]
            part = min(track.unpaid(), amount)
            if part <= 0:
                continue
            track.covered += part
            amount -= part
            shares.append((commission_id, part))
            if track.unpaid() <= 0:
                track.paid_at = at

    def unpay(self, payout_id: int) -> None:
        for commission_id, part in self.paid_by.pop(payout_id, []):
            track = self.tracks[commission_id]
            track.covered -= part
            track.paid_at = None


def pays(entry: Entry) -> bool:
    """The entry of a payout that allocates it over released commissions."""
    return entry.kind == "payout" and entry.bucket == "paid" and entry.payout_id is not None


def unpays(entry: Entry) -> bool:
    """The entry of a failed payout that gives back what the payout covered."""
    return entry.kind == "payout_failed" and entry.bucket == "paid" and bool(entry.payout_id)


def _apply(books: Books, entry: Entry) -> None:
    if entry.commission_id is None:
        if pays(entry):
            books.pay(entry.payout_id, entry.amount_minor, entry.at)  # type: ignore[arg-type]
        elif unpays(entry):
            books.unpay(entry.payout_id)  # type: ignore[arg-type]
        return
    track = books.tracks.setdefault(entry.commission_id, Track())
    if apply_to_track(track, entry) and entry.commission_id not in books.released_order:
        books.released_order[entry.commission_id] = None


def apply_to_track(track: Track, entry: Entry) -> bool:
    """One of the commission's own entries; True if it released the commission."""
    if entry.kind == "accrue":
        track.accrued += entry.amount_minor
        track.accrued_at = track.accrued_at or entry.at
    elif entry.kind == "release" and entry.bucket == "available":
        track.released += entry.amount_minor
        track.released_at = entry.at
        return True
    elif entry.kind in ("refund", "reject") and entry.bucket == "cancelled":
        track.reversed += entry.amount_minor
        track.reversed_at = entry.at
    elif entry.kind in ("refund", "reject") and entry.bucket == "available":
        track.reversed_after_release -= entry.amount_minor  # a negative posting
    return False


def state_name(track: Track) -> str:
    now_worth = track.accrued - track.reversed
    if track.accrued <= 0:
        return NO_PAY
    if not track.released:
        return PENDING if now_worth > 0 else CANCELLED
    if now_worth <= 0:
        return CLAWED_BACK
    return PAID if track.covered >= now_worth else AVAILABLE


def credit_state(track: Track) -> CreditState:
    state = state_name(track)
    return CreditState(
        state=state,
        amount_minor=track.accrued - track.reversed,
        accrued_minor=track.accrued,
        accrued_at=track.accrued_at,
        released_at=track.released_at,
        reversed_at=track.reversed_at,
        paid_at=track.paid_at if state == PAID else None,
    )


def replay(entries: Iterable[Entry]) -> Books:
    """Apply a payee's entries in append order: each commission's track, and what each payout
    that was not returned covered."""
    books = Books()
    for entry in sorted(entries, key=lambda e: e.id):
        _apply(books, entry)
    return books


def credit_states(entries: Iterable[Entry]) -> dict[int, CreditState]:
    """{commission id: its state} for every commission with entries among a payee's `entries`.

    A commission without entries (nothing was ever due) is NO_PAY: see `state_of`.
    """
    books = replay(entries)
    return {commission_id: credit_state(track) for commission_id, track in books.tracks.items()}


def state_of(states: dict[int, CreditState], commission_id: int) -> CreditState:
    return states.get(commission_id) or CreditState(state=NO_PAY, amount_minor=0, accrued_minor=0)

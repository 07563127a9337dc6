"""Points accounts, the append-only ledger of their changes, and earnings held for the return
window."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow

# Ledger kinds. Each credit kind has its paired reversal (promotions.md principle 2).
CHECKIN = "checkin"
PURCHASE, PURCHASE_BACK = "purchase", "purchase_back"  # the buyer's, after the hold
SHARE, SHARE_BACK = "share", "share_back"  # the level-1 sharer's, after the hold
SPEND, SPEND_BACK = "spend", "spend_back"  # used at checkout; given back on cancel or refund
EXPIRE = "expire"
GRANT = "grant"  # an operator's credit (tests, support); no reversal: a debit is a new entry
CREDIT_KINDS = (CHECKIN, PURCHASE, SHARE, SPEND_BACK, GRANT)
KINDS = (*CREDIT_KINDS, PURCHASE_BACK, SHARE_BACK, SPEND, EXPIRE)

HELD, RELEASED, CANCELLED = "held", "released", "cancelled"


class PointsAccount(db.Model):
    """One person's balance: changed only by a conditional UPDATE in the transaction that
    appends the entry saying why (`balance + :d >= 0`)."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("streak >= 0", name="streak_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)
    # The last check-in's day (the server's local day) and how many days in a row it ends.
    checkin_day: Mapped[date | None]
    streak: Mapped[int] = mapped_column(default=0)
    # Credits expiring up to here were looked at by the expiry job.
    expired_through: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointsEntry(db.Model):
    """One change of a balance, never edited: signed amount, the balance after it, and a unique
    business key that makes every replay (a webhook, a job run, a double tap) a no-op."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("key", name="uq_points_entries_key"),
        CheckConstraint("amount <> 0 OR shortfall > 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint("shortfall >= 0", name="shortfall_not_negative"),
        Index("ix_points_entries_user_recent", "user_id", "created_at", "id"),
        Index("ix_points_entries_expires", "expires_at"),
        Index("ix_points_entries_line", "order_line_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int]
    balance_after: Mapped[int]
    key: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    # Credits: when they expire (None: never). A spend: the latest expiry among the points it
    # used, which the points it gives back keep (a cancel never makes points live longer).
    expires_at: Mapped[datetime | None]
    # A reversal after release that found too little left: what it could not take back.
    shortfall: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointsHold(db.Model):
    """Points earned on an order line, held until its return window has passed (delivery plus
    the hold), then credited; a refund meanwhile lowers or cancels them."""

    __tablename__ = "points_holds"
    __table_args__ = (
        UniqueConstraint("kind", "order_line_id", name="uq_points_holds_line"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("state IN ('held', 'released', 'cancelled')", name="state_known"),
        Index("ix_points_holds_due", "state", "hold_until"),
        Index("ix_points_holds_user", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # purchase | share
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    amount: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default=HELD)
    # Delivery plus the hold; None until the order is delivered.
    hold_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]

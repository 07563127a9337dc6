"""Shares and their clicks, the commissions frozen onto paid order lines, and the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.attribution.payout_rules import REQUESTED
from commerce.extensions import MONEY, db
from commerce.timeutil import utcnow

# What can be shared: a video (by public id), a product (by id), a live room (by public id).
# group: commerce/groupbuy, invite: commerce/invites (links.EXTRA_TARGETS).
TARGET_KINDS = ("video", "product", "live", "group", "invite")


class Share(db.Model):
    """One person's share of one thing; re-sharing a page reached through a share makes a child."""

    __tablename__ = "shares"
    __table_args__ = (
        UniqueConstraint("sharer_id", "target_kind", "target_key", "parent_id"),
        Index("ix_shares_parent", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id"))
    depth: Mapped[int] = mapped_column(default=0)  # 0 for a share nobody referred
    target_kind: Mapped[str] = mapped_column(String(16))
    target_key: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(32))  # the sharer's browser, for flags
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sharer: Mapped[User] = relationship()
    parent: Mapped[Share | None] = relationship(remote_side=[id], foreign_keys=[parent_id])


class ShareClick(db.Model):
    """A real navigation through a share link, recorded before the redirect."""

    __tablename__ = "share_clicks"
    # A sharer's clicks of the last days: a short range per share, not all of its clicks.
    __table_args__ = (Index("ix_share_clicks_share_at", "share_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id"), index=True)
    visitor_id: Mapped[str] = mapped_column(String(32), index=True)  # the browser's random id
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    ip_hash: Mapped[str] = mapped_column(String(64), index=True)
    user_agent_hash: Mapped[str] = mapped_column(String(64))
    ad_click_id: Mapped[bool] = mapped_column(default=False)  # gclid, fbclid, ttclid on the link
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    share: Mapped[Share] = relationship()


# A commission's review state: flagged ones are held until a platform admin decides.
REVIEW_NONE, REVIEW_HELD, REVIEW_APPROVED, REVIEW_REJECTED = "none", "held", "approved", "rejected"


class Commission(db.Model):
    """One person credited for one order line, frozen at payment (paid or not, and why)."""

    __tablename__ = "commissions"
    __table_args__ = (
        UniqueConstraint("order_line_id", "role", "level"),
        # A payee's newest commissions (dashboards, charts) without sorting all of them.
        Index("ix_commissions_user_recent", "user_id", "created_at", "id"),
        # A payee's sums per day (charts) from the index alone, however many sales a day.
        Index(
            "ix_commissions_user_day",
            "user_id",
            "created_at",
            postgresql_include=["role", "currency", "amount_minor"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # creator | sharer
    level: Mapped[int]  # 0 creator, 1 direct sharer, 2 upline, ...
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id"), index=True)
    base_minor: Mapped[int] = mapped_column(MONEY)
    rate_bp: Mapped[int]
    # As frozen at payment; refunds append ledger entries.
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(24))  # rules.PAID or why it is unpaid
    review: Mapped[str] = mapped_column(String(12), default=REVIEW_NONE, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    share: Mapped[Share | None] = relationship()


class LedgerEntry(db.Model):
    """Append-only. A balance is a sum over entries; (event_key, bucket) makes replays no-ops."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("event_key", "bucket"),
        Index("ix_ledger_payee_bucket", "payee_id", "bucket"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(120))
    # accrue | release | refund | reject | payout | payout_failed
    kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(12))  # ledger_rules.BUCKETS
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    # Why money moved back, when the kind alone does not say (a failed payout's failure code).
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Payout(db.Model):
    """Money on its way to a payee; the provider's webhook settles it (payout_rules)."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("payee_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(12), default=REQUESTED)  # payout_rules.STATES
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(40))  # the provider's: account_closed


class FraudFlag(db.Model):
    """A signal worth a person's look; a flag on an order holds its commissions for review."""

    __tablename__ = "fraud_flags"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # same_email, same_phone, same_device, ip_burst...
    subject: Mapped[str] = mapped_column(String(80))  # what it is about, e.g. "order:12:user:3"
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommissionCredit(db.Model):
    """A commission's state as its ledger entries leave it (credit_state rule): a projection
    written in the transaction of each append, so pages read one row, not the payee's history.

    The ledger stays the truth: `flask ledger verify` replays it and compares.
    """

    __tablename__ = "commission_credits"
    __table_args__ = (
        # Payouts pay the released, not yet paid commissions first released, first paid.
        Index(
            "ix_commission_credits_unpaid",
            "payee_id",
            "release_seq",
            postgresql_where=text("unpaid_minor > 0"),
            sqlite_where=text("unpaid_minor > 0"),
        ),
    )

    commission_id: Mapped[int] = mapped_column(ForeignKey("commissions.id"), primary_key=True)
    payee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))  # credit_state.STATES
    accrued_minor: Mapped[int] = mapped_column(MONEY, default=0)
    reversed_minor: Mapped[int] = mapped_column(MONEY, default=0)  # cancelled, before or after
    released_minor: Mapped[int] = mapped_column(MONEY, default=0)
    reversed_after_release_minor: Mapped[int] = mapped_column(MONEY, default=0)
    covered_minor: Mapped[int] = mapped_column(MONEY, default=0)  # by payouts
    unpaid_minor: Mapped[int] = mapped_column(MONEY, default=0)  # released, not covered
    release_seq: Mapped[int | None]  # the id of the entry that released it: payout order
    accrued_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]  # when payouts covered it all; cleared if one is returned


class PayoutAllocation(db.Model):
    """What part of a payout went to which commission (first released, first paid)."""

    __tablename__ = "payout_allocations"

    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commissions.id"), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(MONEY)


class PayeeBalance(db.Model):
    """A payee's ledger sums per bucket in one currency, kept with each append."""

    __tablename__ = "payee_balances"

    payee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    pending_minor: Mapped[int] = mapped_column(MONEY, default=0)
    available_minor: Mapped[int] = mapped_column(MONEY, default=0)
    paid_minor: Mapped[int] = mapped_column(MONEY, default=0)
    cancelled_minor: Mapped[int] = mapped_column(MONEY, default=0)

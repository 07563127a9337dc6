"""Invitations (one per invitee, ever), the sharer's reward for one, the welcome coupon's device
record, per-sharer reward counters and the programme's coupon templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.invites.rules import JOINED
from commerce.timeutil import utcnow


class Invitation(db.Model):
    """A person who signed up through someone's share link; `state` moves only by conditional
    UPDATEs (rules.TRANSITIONS): joined -> first_paid -> rewarded | void | flagged."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "state IN ('joined', 'first_paid', 'rewarded', 'void', 'flagged')",
            name="invitation_state_known",
        ),
        CheckConstraint("sharer_id <> invitee_id", name="nobody_invites_themselves"),
        Index("ix_invitations_sharer_recent", "sharer_id", "created_at"),
        Index("ix_invitations_state_order_by", "state", "order_by_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id"), index=True)
    click_id: Mapped[int | None] = mapped_column(ForeignKey("share_clicks.id"))
    state: Mapped[str] = mapped_column(String(12), default=JOINED)
    # Why it ended without a reward (expired, refunded, rejected) or why it waits (capped...).
    reason: Mapped[str] = mapped_column(String(24), default="")
    # "approved" once an operator cleared its flags: the person checks are not run again.
    review: Mapped[str] = mapped_column(String(12), default="")
    device_id: Mapped[str | None] = mapped_column(String(32), index=True)  # the sign-up browser
    signup_ip_hash: Mapped[str | None] = mapped_column(String(64))
    # given | device_used | own_device | unavailable | off: what became of the welcome coupon.
    welcome: Mapped[str] = mapped_column(String(12), default="")
    welcome_coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    order_by_at: Mapped[datetime]  # the first order must be paid before this
    first_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    first_paid_at: Mapped[datetime | None]
    order_device_id: Mapped[str | None] = mapped_column(String(32))
    address_key: Mapped[str | None] = mapped_column(String(64), index=True)  # rules.address_key
    flagged_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rewarded_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitee: Mapped[User] = relationship(foreign_keys=[invitee_id])
    sharer: Mapped[User] = relationship(foreign_keys=[sharer_id])


class InviteReward(db.Model):
    """The sharer's reward for one invitation: the unique invitation id makes it once, ever."""

    __tablename__ = "invite_rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # coupon (points later: rewards.REWARDERS)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    ref: Mapped[str] = mapped_column(String(40), default="")  # another rewarder's own record
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WelcomeDevice(db.Model):
    """A browser that has had a welcome coupon: one per device, whatever the account."""

    __tablename__ = "invite_welcome_devices"

    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharerRewardCount(db.Model):
    """Rewards a sharer received in one day ("d2026-12-06") or month ("m2026-12"): the optional
    caps race on these with a conditional UPDATE."""

    __tablename__ = "invite_sharer_counts"

    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class InviteProgramme(db.Model):
    """The operator's coupon templates for the programme (one row, id 1): the welcome coupon and
    the sharer's reward coupon. Seeded by `flask setup`; edited on the platform coupons page."""

    __tablename__ = "invite_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    welcome_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_templates.id"))
    reward_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_templates.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

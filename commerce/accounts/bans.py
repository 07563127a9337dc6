"""Platform bans an admin sets from the reports console: no login at all, or no posting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow

LOGIN, POST = "login", "post"  # LOGIN also forbids posting: a signed-out user posts nothing
KINDS = (LOGIN, POST)


class AccountBan(db.Model):
    """At most one per user; a stronger ban replaces a weaker one (see moderation services)."""

    __tablename__ = "account_bans"
    __table_args__ = (CheckConstraint("kind IN ('login', 'post')", name="kind_known"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def ban_of(session: Session, user_id: int) -> str | None:
    """The user's ban kind, if any."""
    return session.scalar(select(AccountBan.kind).where(AccountBan.user_id == user_id))


def may_log_in(session: Session, user_id: int) -> bool:
    return ban_of(session, user_id) != LOGIN


def may_post(session: Session, user_id: int) -> bool:
    return ban_of(session, user_id) is None

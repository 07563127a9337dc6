"""Reports by viewers, and the append-only audit log of what admins did about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.moderation.rules import OPEN
from commerce.timeutil import utcnow


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(
            "target_type IN ('video', 'comment', 'user', 'room', 'review')", name="target_known"
        ),
        CheckConstraint("state IN ('open', 'actioned', 'dismissed')", name="state_known"),
        # One open report per reporter per target: a second is refused, even a racing one.
        Index(
            "uq_reports_open_per_reporter",
            "reporter_id",
            "target_type",
            "target_key",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index("ix_reports_queue", "state", "created_at", "id"),
        Index("ix_reports_target", "target_type", "target_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_type: Mapped[str] = mapped_column(String(8))
    target_key: Mapped[str] = mapped_column(String(24))  # a public id, or a numeric id as text
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # whose content
    reason: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])


class ModerationAction(db.Model):
    """Who did what to which target, when and why. Rows are only ever added."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_recent", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    target_type: Mapped[str] = mapped_column(String(8))
    target_key: Mapped[str] = mapped_column(String(24))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User] = relationship()


class AuditLogIsAppendOnly(RuntimeError):
    pass


def _refuse(*_args: Any) -> None:
    raise AuditLogIsAppendOnly("the moderation audit log is append-only")


# The ORM refuses to change or remove an entry (the database user could; the app never does).
event.listen(ModerationAction, "before_update", _refuse)
event.listen(ModerationAction, "before_delete", _refuse)

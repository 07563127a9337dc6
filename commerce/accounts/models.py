"""Accounts: anyone can watch, buy and share; creator and merchant are switched on per account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from commerce.extensions import db
from commerce.files.models import StoredObject
from commerce.timeutil import utcnow


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(32))  # optional; compared for fraud flags
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_id: Mapped[int | None] = mapped_column(ForeignKey("stored_objects.id"))
    is_creator: Mapped[bool] = mapped_column(default=False)
    is_merchant: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept in the session cookie at login; a cookie with an older number is signed out.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    avatar: Mapped[StoredObject | None] = relationship()

    def set_password(self, password: str) -> None:
        if self.password_hash:  # a change, not the first password: old cookies stop working
            self.end_sessions()
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Sign out every session cookie issued so far (logout, password change)."""
        self.session_version = (self.session_version or 0) + 1


class RateEvent(db.Model):
    """One counted action (a failed login, a sign-up) in a bucket such as 'client:<ip>'."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(300), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

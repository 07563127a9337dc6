"""A stored object remembers its backend and key, so bytes can move between backends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow


class StoredObject(db.Model):
    __tablename__ = "stored_objects"
    __table_args__ = (UniqueConstraint("backend", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    backend: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(512))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

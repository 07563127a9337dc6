"""Notifications: one event per thing that happened, one row per recipient, preferences, consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow


class NotificationEvent(db.Model):
    """Something worth telling (a creator went live, an order shipped), stored once.

    `event_key` is unique: the hook that creates it can run again (a retried job, a repeated
    webhook) without telling anyone twice. `audience` says who is told; the fan-out job reads it.
    """

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_actor_type", "actor_id", "type", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # {"followers_of": id?, "users": [ids]?, "source": name?, "source_arg": int?}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the text and link are made of: {"endpoint", "args", "title", "state", ...}
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    to_followers: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column()


class Notification(db.Model):
    """One recipient's copy of an event: (recipient, event) is unique, so a retried fan-out
    step inserts nothing twice. The inbox pages by (created_at, id) on its index."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("uq_notifications_recipient_event", "recipient_id", "event_id", unique=True),
        Index("ix_notifications_inbox", "recipient_id", "created_at", "id"),
        Index("ix_notifications_unread", "recipient_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class NotificationPreference(db.Model):
    """A user's choice for one type on one channel; no row means the default (rules.DEFAULTS)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    enabled: Mapped[bool] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailConsent(db.Model):
    """Consent to notification e-mail: when, to which wording, how; withdrawn keeps the record."""

    __tablename__ = "email_consents"
    __table_args__ = (Index("ix_email_consents_user", "user_id", "granted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(254))
    wording_version: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))  # settings_page, api
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()

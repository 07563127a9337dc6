"""What the notification endpoints accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from commerce.notifications import rules
from commerce.validation import Schema

TypeName = Literal[
    "video",
    "live",
    "reply",
    "mention",
    "follower",
    "order",
    "commission",
    "payout",
    "group",
    "invite",
    "points",
]
ChannelName = Literal["in_app", "email"]
assert set(rules.TYPES) == set(TypeName.__args__)  # type: ignore[attr-defined]


class NotificationOut(Schema):
    id: int
    type: TypeName
    text: str = Field(description="In the viewer's language; plain text (escape it to show it).")
    url: str = Field(description="Where the notification leads.")
    actor_id: int | None
    actor_name: str | None
    created_at: datetime
    read: bool


class NotificationsQuery(Schema):
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=50)
    unread: bool = Field(default=False, description="Only the unread ones.")


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class UnreadOut(Schema):
    unread: int
    label: str = Field(description="What the badge shows: empty at 0, 99+ past 99.")


class MarkedOut(Schema):
    marked: int = Field(description="How many notifications this call marked read.")
    unread: int


class PreferenceItem(Schema):
    type: TypeName
    channel: ChannelName
    enabled: bool


class ConsentOut(Schema):
    granted_at: datetime
    wording_version: str
    method: str
    address: str


class PreferencesOut(Schema):
    items: list[PreferenceItem]
    email_consent: ConsentOut | None
    consent_wording_version: str
    consent_wording: str


class PreferencesIn(Schema):
    items: list[PreferenceItem] = Field(default_factory=list, max_length=40)
    email_consent: bool | None = Field(
        default=None,
        description="true: agree to notification e-mail (the wording in force is recorded); "
        "false: withdraw it (every e-mail type goes off).",
    )

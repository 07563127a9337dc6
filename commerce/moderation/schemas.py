"""Report and moderation API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from commerce.validation import Schema

TargetType = Literal["video", "comment", "user", "room", "review"]
Reason = Literal[
    "spam", "harassment", "hate", "sexual", "violence", "fraud", "minor_safety", "other"
]
Decision = Literal["hide", "ban_login", "ban_post", "dismiss"]


class ReportIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    target_type: TargetType
    target_id: str = Field(
        min_length=1,
        max_length=24,
        description="Video or room public id; comment, review or user id",
    )
    reason: Reason
    text: str = Field(default="", max_length=1000)


class ReportOut(Schema):
    id: int
    target_type: str
    target_id: str
    reason: str
    text: str
    state: str
    created_at: datetime


class DecisionIn(Schema):
    model_config = ConfigDict(str_strip_whitespace=True)

    decision: Decision
    reason: str = Field(min_length=3, max_length=1000, description="Why: kept in the audit log")


class QueueQuery(Schema):
    state: Literal["open", "actioned", "dismissed"] = "open"


class ReportList(Schema):
    items: list[ReportOut]


class AuditEntryOut(Schema):
    id: int
    actor_id: int
    action: str
    target_type: str
    target_id: str
    report_id: int | None
    reason: str
    created_at: datetime


class AuditLog(Schema):
    items: list[AuditEntryOut]

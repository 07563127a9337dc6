"""What the invite endpoint returns."""

from __future__ import annotations

from datetime import datetime

from commerce.validation import Schema


class InviteRulesOut(Schema):
    """The programme's full rules, generated from its settings and templates."""

    lines: list[str]
    welcome_headline: str | None
    reward_headline: str | None
    reward_kind: str
    min_order_minor: int
    order_window_days: int
    hold_seconds: int
    daily_cap: int
    monthly_cap: int


class InvitationOut(Schema):
    """One person you invited, by display name only."""

    id: int
    invitee_name: str
    state: str  # joined | first_paid | rewarded | void | flagged (checked on read)
    shown: str  # joined | ordered | reward_on | rewarded | void | review
    label: str
    date: datetime | None  # order by (joined), reward on (reward_on)
    joined_at: datetime
    rewarded_at: datetime | None
    reason: str


class WelcomeOut(Schema):
    """How you were invited, and your welcome coupon."""

    sharer_name: str
    welcome: str  # given | device_used | own_device | unavailable | off
    coupon_id: int | None
    coupon_headline: str | None
    coupon_state: str | None
    coupon_expires_at: datetime | None


class ShareTargetOut(Schema):
    """POST these to /api/v1/shares for your invite link."""

    target_kind: str
    target_key: str


class InvitesOut(Schema):
    rules: InviteRulesOut
    share: ShareTargetOut
    invitations: list[InvitationOut]
    counts: dict[str, int]
    invited_by: WelcomeOut | None
    server_now: datetime

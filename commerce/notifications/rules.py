"""Notification rules: types, channels and their defaults, e-mail consent, go-live rate limit.
Pure functions, no framework."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

# What can be told. Each type is one row of the preferences page.
VIDEO = "video"  # a creator you follow published a video
LIVE = "live"  # a creator you follow went live, or a room you asked to be reminded of started
REPLY = "reply"  # someone answered your comment
MENTION = "mention"  # someone mentioned you in a comment
FOLLOWER = "follower"  # someone followed you
ORDER = "order"  # your order was paid, shipped, delivered, refunded; a refund was decided
COMMISSION = "commission"  # a commission became available to withdraw
PAYOUT = "payout"  # a payout reached your account
GROUP = "group"  # a group you joined succeeded or failed (refunded); a leader-free rebate
INVITE = "invite"  # your welcome coupon arrived; a person you invited earned you a reward
POINTS = "points"  # points held through the return window were credited: ready to use
TYPES = (VIDEO, LIVE, REPLY, MENTION, FOLLOWER, ORDER, COMMISSION, PAYOUT, GROUP, INVITE, POINTS)

IN_APP, EMAIL = "in_app", "email"
CHANNELS = (IN_APP, EMAIL)

# In-app is on until switched off; e-mail is off until the user opts in (ePrivacy art. 13).
DEFAULTS: dict[tuple[str, str], bool] = {
    **{(kind, IN_APP): True for kind in TYPES},
    **{(kind, EMAIL): False for kind in TYPES},
}

# The consent text the settings page shows next to the e-mail switch; a new wording gets a new
# version, and the version in force is recorded with each consent.
CONSENT_WORDING_VERSION = "2026-12-v1"
CONSENT_METHODS = ("settings_page", "api")

# Followers hear of a creator's go-live at most once per window: a restarted or second live
# within it does not tell them again (people who asked to be reminded of that room still are).
GO_LIVE_WINDOW = timedelta(minutes=30)

# One fan-out step: this many candidate recipients, one INSERT ... SELECT, one commit.
BATCH_SIZE = 1000
UNREAD_CAP = 99


class UnknownPreference(ValueError):
    """A (type, channel) pair that does not exist."""


def check_preference(kind: str, channel: str) -> tuple[str, str]:
    if kind not in TYPES or channel not in CHANNELS:
        raise UnknownPreference(f"{kind}/{channel}")
    return kind, channel


def is_enabled(kind: str, channel: str, chosen: Mapping[tuple[str, str], bool]) -> bool:
    """The user's choice for (type, channel), else the default."""
    check_preference(kind, channel)
    return chosen.get((kind, channel), DEFAULTS[(kind, channel)])


def email_allowed(
    kind: str, chosen: Mapping[tuple[str, str], bool], *, consented: bool, has_address: bool
) -> bool:
    """An e-mail goes out only with a consent on record, an address, and that type switched on."""
    return consented and has_address and is_enabled(kind, EMAIL, chosen)


def may_tell_followers(last_told: datetime | None, now: datetime) -> bool:
    """Followers are told of a go-live unless they were told of this creator within the window."""
    return last_told is None or now - last_told >= GO_LIVE_WINDOW


def unread_label(count: int) -> str:
    """What the badge shows: nothing at zero, 99+ past the cap."""
    if count <= 0:
        return ""
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


def preference_grid(chosen: Mapping[tuple[str, str], bool]) -> dict[str, dict[str, bool]]:
    """Every type × channel with its effective value."""
    return {kind: {ch: is_enabled(kind, ch, chosen) for ch in CHANNELS} for kind in TYPES}

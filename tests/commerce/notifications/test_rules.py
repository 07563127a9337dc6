"""Notification rules by tables: defaults per type × channel, e-mail only with consent, the
go-live rate limit, the badge label."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.notifications import rules

T0 = datetime(2026, 12, 6, 12, 0)


@pytest.mark.parametrize("kind", rules.TYPES)
@pytest.mark.parametrize(("channel", "default"), [(rules.IN_APP, True), (rules.EMAIL, False)])
def test_defaults_in_app_on_email_off(kind, channel, default):
    assert rules.is_enabled(kind, channel, {}) is default


@pytest.mark.parametrize(
    ("chosen", "kind", "channel", "expected"),
    [
        ({("live", "in_app"): False}, "live", "in_app", False),
        ({("live", "in_app"): False}, "video", "in_app", True),
        ({("order", "email"): True}, "order", "email", True),
        ({("order", "email"): True}, "payout", "email", False),
    ],
)
def test_a_choice_overrides_only_its_cell(chosen, kind, channel, expected):
    assert rules.is_enabled(kind, channel, chosen) is expected


@pytest.mark.parametrize(("kind", "channel"), [("likes", "in_app"), ("live", "sms")])
def test_unknown_cells_are_refused(kind, channel):
    with pytest.raises(rules.UnknownPreference):
        rules.is_enabled(kind, channel, {})


ON = {("live", "email"): True}


@pytest.mark.parametrize(
    ("chosen", "consented", "has_address", "allowed"),
    [
        ({}, False, True, False),  # nothing chosen, no consent
        ({}, True, True, False),  # consent alone switches nothing on
        (ON, False, True, False),  # switched on but no consent on record
        (ON, True, False, False),  # no address
        (ON, True, True, True),
        ({("live", "email"): False}, True, True, False),  # unsubscribed
    ],
)
def test_email_needs_consent_and_the_type_on(chosen, consented, has_address, allowed):
    assert (
        rules.email_allowed("live", chosen, consented=consented, has_address=has_address) is allowed
    )


@pytest.mark.parametrize(
    ("last_told", "now", "tell"),
    [
        (None, T0, True),  # never told
        (T0, T0, False),  # a restart at once
        (T0, T0 + timedelta(minutes=29, seconds=59), False),
        (T0, T0 + timedelta(minutes=30), True),  # the window has passed
        (T0, T0 + timedelta(hours=5), True),
    ],
)
def test_followers_told_at_most_once_per_creator_per_window(last_told, now, tell):
    assert rules.may_tell_followers(last_told, now) is tell


@pytest.mark.parametrize(
    ("count", "label"), [(0, ""), (-1, ""), (1, "1"), (99, "99"), (100, "99+"), (5000, "99+")]
)
def test_badge_label(count, label):
    assert rules.unread_label(count) == label


def test_grid_has_every_type_and_channel():
    grid = rules.preference_grid({("mention", "in_app"): False})
    assert set(grid) == set(rules.TYPES)
    assert grid["mention"] == {"in_app": False, "email": False}
    assert grid["live"] == {"in_app": True, "email": False}

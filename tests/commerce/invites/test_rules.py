"""Invite rules as tables: the state machine, who is invited, the welcome coupon, when the
reward is due, the one-reward-per-person checks, caps and what the list shows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.invites import rules
from commerce.invites.rules import (
    DUE,
    END,
    FIRST_PAID,
    FLAGGED,
    JOINED,
    REWARDED,
    VOID,
    WAIT,
    Settings,
    person,
)

NOW = datetime(2026, 12, 6, 12, 0)
DAY = timedelta(days=1)
SETTINGS = Settings(hold=7 * DAY, min_order_minor=1000, daily_cap=2, monthly_cap=10)


@pytest.mark.parametrize(
    ("current", "wanted", "allowed"),
    [
        (JOINED, FIRST_PAID, True),
        (JOINED, VOID, True),
        (JOINED, REWARDED, False),  # no reward without a first order
        (JOINED, FLAGGED, False),
        (FIRST_PAID, REWARDED, True),
        (FIRST_PAID, VOID, True),
        (FIRST_PAID, FLAGGED, True),
        (FIRST_PAID, JOINED, False),
        (FLAGGED, FIRST_PAID, True),  # approved: the reward follows
        (FLAGGED, VOID, True),
        (FLAGGED, REWARDED, False),  # only through an approval
        (REWARDED, VOID, False),
        (REWARDED, FIRST_PAID, False),
        (VOID, FIRST_PAID, False),  # a later order never revives it
        (VOID, JOINED, False),
    ],
)
def test_state_machine(current, wanted, allowed):
    if allowed:
        assert rules.check_move(current, wanted) == wanted
    else:
        with pytest.raises(rules.IllegalInviteMove):
            rules.check_move(current, wanted)


def _join(**changes):
    values = dict(
        sharer_id=1,
        invitee_id=2,
        clicked_at=NOW - timedelta(hours=1),
        signed_up_at=NOW,
        window=7 * DAY,
        paid_orders_before=0,
        sharer_banned=False,
    )
    values.update(changes)
    return rules.may_join(**values)


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({}, "ok"),
        ({"sharer_id": None, "clicked_at": None}, "no_link"),
        ({"sharer_id": 2}, "own_link"),
        ({"clicked_at": NOW - 8 * DAY}, "outside_window"),
        ({"clicked_at": NOW + timedelta(seconds=1)}, "outside_window"),
        ({"clicked_at": NOW - 7 * DAY}, "ok"),
        ({"paid_orders_before": 1}, "not_new"),
        ({"sharer_banned": True}, "sharer_banned"),
    ],
)
def test_who_counts_as_invited(changes, verdict):
    assert _join(**changes) == verdict


@pytest.mark.parametrize(
    ("ready", "own", "free", "verdict"),
    [
        (True, False, True, "given"),
        (True, False, False, "device_used"),
        (True, True, True, "own_device"),
        (False, False, True, "off"),
    ],
)
def test_welcome_coupon_one_per_device(ready, own, free, verdict):
    assert rules.welcome_verdict(programme_ready=ready, own_device=own, device_free=free) == verdict


def _verdict(**changes):
    values = dict(
        order_state="delivered",
        delivered_at=NOW - 8 * DAY,
        total_minor=5000,
        refunded_minor=0,
        refund_open=False,
        now=NOW,
        settings=SETTINGS,
    )
    values.update(changes)
    return rules.reward_verdict(**values)


@pytest.mark.parametrize(
    ("changes", "action", "reason"),
    [
        ({}, DUE, "ok"),
        ({"order_state": "completed"}, DUE, "ok"),
        ({"delivered_at": NOW - 7 * DAY}, DUE, "ok"),  # exactly the window
        ({"delivered_at": NOW - 7 * DAY + timedelta(seconds=1)}, WAIT, "return_window_open"),
        ({"order_state": "paid", "delivered_at": None}, WAIT, "not_delivered"),
        ({"order_state": "shipped", "delivered_at": None}, WAIT, "not_delivered"),
        ({"refund_open": True}, WAIT, "refund_open"),
        ({"order_state": "refunded", "refunded_minor": 5000}, END, "refunded"),
        ({"order_state": "partially_refunded", "refunded_minor": 1000}, DUE, "ok"),
        ({"order_state": "partially_refunded", "refunded_minor": 4500}, END, "below_minimum"),
        ({"total_minor": 999}, END, "below_minimum"),
    ],
)
def test_when_the_reward_is_due(changes, action, reason):
    assert _verdict(**changes) == rules.Verdict(action, reason)


def test_orders_below_the_minimum_are_not_first_orders():
    assert rules.counts_as_first_order(1000, SETTINGS)
    assert not rules.counts_as_first_order(999, SETTINGS)


@pytest.mark.parametrize(
    ("state", "order_by", "expected"),
    [
        (JOINED, NOW + DAY, JOINED),
        (JOINED, NOW, VOID),  # checked on read, before the job
        (FIRST_PAID, NOW - DAY, FIRST_PAID),  # the order window no longer matters
        (REWARDED, NOW - DAY, REWARDED),
    ],
)
def test_effective_state(state, order_by, expected):
    assert rules.effective_state(state, order_by, NOW) == expected


FLAT = {"line1": "1 Nanjing Road", "city": "Shanghai", "postal_code": "200000", "country": "CN"}


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ({**FLAT, "name": "Someone else", "phone": "1"}, True),  # name and phone left out
        ({**FLAT, "line1": " 1 nanjing  ROAD. "}, True),
        ({**FLAT, "line1": "1 Nanjing Rd"}, True),
        ({**FLAT, "line1": "１ Ｎａｎｊｉｎｇ Ｒｏａｄ"}, True),  # full-width
        ({**FLAT, "line1": "2 Nanjing Road"}, False),
        ({**FLAT, "line2": "Flat 3"}, False),
        ({**FLAT, "city": "Beijing"}, False),
    ],
)
def test_addresses_compare_normalised(other, same):
    assert (rules.address_key(FLAT) == rules.address_key(other)) is same


def test_an_address_without_a_line_has_no_key():
    assert rules.address_key({"city": "Shanghai"}) is None


SHARER = person("ann@example.com", ["+86 138 0000 0001"], ["dev-ann"], ["addr-ann"], ["card-ann"])


@pytest.mark.parametrize(
    ("invitee", "others", "rewarded", "signups", "expected"),
    [
        (person("bo@example.com", ["13900000002"], ["dev-bo"], ["addr-bo"]), [], [], 1, []),
        (person("A.N.N+x@example.com"), [], [], 1, []),  # dots count outside Gmail
        (person("ann+second@example.com"), [], [], 1, [rules.SAME_EMAIL]),
        (person(phones=["0086 138-0000-0001"]), [], [], 1, [rules.SAME_PHONE]),
        (person(devices=["dev-ann"]), [], [], 1, [rules.SAME_DEVICE]),
        (person(addresses=["addr-ann"]), [], [], 1, [rules.SAME_ADDRESS]),
        (person(devices=["dev-cy"]), [person(devices=["dev-cy"])], [], 1, [rules.SAME_DEVICE]),
        # Another invitee's address counts once that one was rewarded, not before.
        (person(addresses=["addr-cy"]), [person(addresses=["addr-cy"])], [], 1, []),
        (
            person(addresses=["addr-cy"]),
            [person(addresses=["addr-cy"])],
            [person(addresses=["addr-cy"])],
            1,
            [rules.SAME_ADDRESS],
        ),
        (
            person(phones=["13900000009"]),
            [],
            [person(phones=["139 0000 0009"])],
            1,
            [rules.SAME_PHONE],
        ),
        # Cards (the provider's fingerprints): the sharer's, or any other live invitee's.
        (person(instruments=["card-ann"]), [], [], 1, [rules.SAME_PAYMENT]),
        (person(instruments=["card-bo", "card-ann"]), [], [], 1, [rules.SAME_PAYMENT]),
        (person(instruments=["card-bo"]), [person(instruments=["card-cy"])], [], 1, []),
        (person(instruments=[None]), [person(instruments=[None])], [], 1, []),  # none known
        (
            person(instruments=["card-cy"]),
            [person(instruments=["card-cy"])],
            [],
            1,
            [rules.SAME_PAYMENT],
        ),
        (
            person(instruments=["card-cy"]),
            [person(devices=["dev-dee"]), person(instruments=["card-cy"])],
            [person(instruments=["card-cy"])],
            1,
            [rules.SAME_PAYMENT],
        ),
        (
            person(devices=["dev-ann"], instruments=["card-ann"]),
            [],
            [],
            4,
            [rules.SAME_DEVICE, rules.SAME_PAYMENT, rules.IP_BURST],
        ),
        (person(), [], [], 3, []),
        (person(), [], [], 4, [rules.IP_BURST]),
        (
            person("ann@example.com", devices=["dev-ann"], addresses=["addr-ann"]),
            [],
            [],
            1,
            [rules.SAME_EMAIL, rules.SAME_DEVICE, rules.SAME_ADDRESS],
        ),
    ],
)
def test_one_reward_per_person(invitee, others, rewarded, signups, expected):
    found = rules.person_signals(
        invitee,
        SHARER,
        others,
        rewarded,
        signups_from_network=signups,
        settings=Settings(ip_signups=3),
    )
    assert [kind for kind, _detail in found] == expected


@pytest.mark.parametrize(
    ("daily", "monthly", "expected"),
    [
        (2, 10, [("d2026-12-06", 2), ("m2026-12", 10)]),
        (0, 10, [("m2026-12", 10)]),
        (0, 0, []),
    ],
)
def test_cap_periods(daily, monthly, expected):
    assert rules.cap_periods(NOW, Settings(daily_cap=daily, monthly_cap=monthly)) == expected


@pytest.mark.parametrize(
    ("state", "order_by", "due", "expected"),
    [
        (JOINED, NOW + DAY, None, ("joined", NOW + DAY)),
        (JOINED, NOW - DAY, None, ("void", None)),
        (FIRST_PAID, NOW, None, ("ordered", None)),
        (FIRST_PAID, NOW, NOW + DAY, ("reward_on", NOW + DAY)),
        (FLAGGED, NOW, NOW, ("review", None)),
        (REWARDED, NOW, NOW, ("rewarded", None)),
        (VOID, NOW, None, ("void", None)),
    ],
)
def test_what_the_list_shows(state, order_by, due, expected):
    assert rules.shown_state(state, order_by, NOW, due) == expected


def test_settings_from_config():
    config = {
        "INVITE_ORDER_WINDOW_DAYS": 30,
        "INVITE_HOLD_SECONDS": 2.5,
        "INVITE_MIN_ORDER_MINOR": 500,
        "INVITE_SHARER_DAILY_CAP": 3,
        "INVITE_SHARER_MONTHLY_CAP": 0,
        "INVITE_IP_SIGNUPS": 4,
        "INVITE_IP_WINDOW_HOURS": 12,
        "ATTRIBUTION_WINDOW_DAYS": 7,
        "INVITE_SHARER_REWARD": "coupon",
    }
    settings = rules.settings_from_config(config)
    assert settings.hold == timedelta(seconds=2.5) and settings.monthly_cap == 0
    assert settings.ip_window == timedelta(hours=12) and settings.min_order_minor == 500

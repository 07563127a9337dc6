"""The points rules as tables: earning, the check-in streak, spending within the caps, the split
over lines, what refunds give back and take back, what expires."""

from __future__ import annotations

from datetime import date

import pytest

from commerce.points import rules

T = rules.Terms()  # 1 point per ¥1, 100 points = ¥1, 50 % per order, 7-day hold, 365-day expiry


@pytest.mark.parametrize(
    ("paid", "per_major", "minor_per_major", "points"),
    [
        (12_999, 1, 100, 129),  # rounded down
        (99, 1, 100, 0),
        (10_000, 3, 100, 300),
        (0, 1, 100, 0),
        (-5, 1, 100, 0),
        (1_000, 1, 1, 1_000),  # JPY: no minor units
    ],
)
def test_earned(paid, per_major, minor_per_major, points):
    assert rules.earned(paid, per_major, minor_per_major) == points


@pytest.mark.parametrize(
    ("last", "streak", "today", "expected"),
    [
        (None, 0, date(2026, 3, 2), 1),
        (date(2026, 3, 1), 4, date(2026, 3, 2), 5),
        (date(2026, 2, 28), 4, date(2026, 3, 2), 1),  # a day missed
        (date(2026, 2, 28), 9, date(2026, 3, 1), 10),  # across a month
    ],
)
def test_next_streak(last, streak, today, expected):
    assert rules.next_streak(last, streak, today) == expected


@pytest.mark.parametrize(
    ("streak", "points"), [(1, 10), (2, 12), (5, 18), (6, 20), (7, 20), (100, 20)]
)
def test_checkin_award_grows_then_stops(streak, points):
    assert rules.checkin_award(streak, T) == points


@pytest.mark.parametrize(
    ("wanted", "balance", "total", "lines", "terms", "spend"),
    [
        (5_000, 5_000, 3_000, 1, T, (1_500, 1_500)),  # the 50 % cap
        (500, 5_000, 3_000, 1, T, (500, 500)),  # what was asked
        (500, 300, 3_000, 1, T, (300, 300)),  # the balance
        (0, 5_000, 3_000, 1, T, (0, 0)),
        (100, 100, 1, 1, T, (0, 0)),  # the line keeps its one unit
        (10_000, 10_000, 3, 3, rules.Terms(max_order_bp=10_000), (0, 0)),
        (10_000, 10_000, 1_000, 2, rules.Terms(max_order_bp=10_000), (998, 998)),
        (5_000, 5_000, 3_000, 1, rules.Terms(max_order_points=800), (800, 800)),  # absolute cap
        # 1,000 points = ¥1 (10 a fen): 1,555 points take ¥1.55 for 1,550; 5 stay
        (1_555, 1_555, 3_000, 1, rules.Terms(spend_rate=1_000), (1_550, 155)),
        # 50 points = ¥1: 25 points take ¥0.50
        (25, 25, 3_000, 1, rules.Terms(spend_rate=50), (25, 50)),
        (5, 5, 3_000, 1, rules.Terms(currency="JPY", spend_rate=10), (0, 0)),  # under ¥1
        (25, 25, 3_000, 1, rules.Terms(currency="JPY", spend_rate=10), (20, 2)),
    ],
)
def test_plan_spend(wanted, balance, total, lines, terms, spend):
    planned = rules.plan_spend(wanted, balance, total, lines, terms)
    assert (planned.points, planned.discount_minor) == spend
    assert planned.points <= min(wanted, balance)


@pytest.mark.parametrize(
    ("discount", "points", "amounts", "parts"),
    [
        (2_000, 2_000, [1_000, 3_001], [(500, 500), (1_500, 1_500)]),
        (3, 300, [2, 2, 2], [(100, 1), (100, 1), (100, 1)]),
        (5, 5, [1, 11], [(0, 0), (5, 5)]),  # a 0.01 line takes nothing
        (0, 0, [100, 200], [(0, 0), (0, 0)]),
        (1, 1000, [500, 500], [(1000, 1), (0, 0)]),
    ],
)
def test_split_sums_exactly_and_each_line_keeps_a_unit(discount, points, amounts, parts):
    got = rules.split(discount, points, amounts)
    assert got == parts
    assert sum(p for p, _ in got) == points and sum(d for _, d in got) == discount
    assert all(amount - d >= 1 for amount, (_, d) in zip(amounts, got, strict=True))


@pytest.mark.parametrize(
    ("used", "paid", "refunded", "back"),
    [
        (1_000, 4_000, 0, 0),
        (1_000, 4_000, 1_000, 250),
        (1_000, 4_000, 3_999, 999),  # rounded down until...
        (1_000, 4_000, 4_000, 1_000),  # ...the line is refunded in full
        (0, 4_000, 4_000, 0),
        (7, 3, 1, 2),
    ],
)
def test_given_back(used, paid, refunded, back):
    assert rules.given_back(used, paid, refunded) == back


@pytest.mark.parametrize(
    ("wanted", "balance", "result"),
    [(100, 500, (100, 0)), (100, 30, (30, 70)), (100, 0, (0, 100)), (0, 50, (0, 0))],
)
def test_take_back_never_below_zero(wanted, balance, result):
    assert rules.take_back(wanted, balance) == result


@pytest.mark.parametrize(
    ("due", "debits", "expired"), [(100, 0, 100), (100, 30, 70), (100, 150, 0), (0, 0, 0)]
)
def test_expiring_counts_what_was_taken_out_against_the_soonest(due, debits, expired):
    assert rules.expiring(due, debits) == expired


@pytest.mark.parametrize(
    "bad",
    [
        rules.Terms(spend_rate=0),
        rules.Terms(max_order_bp=10_001),
        rules.Terms(max_order_bp=-1),
        rules.Terms(checkin_points=-1),
        rules.Terms(expire_days=-3),
    ],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        rules.check_terms(bad)


def test_the_app_refuses_to_start_on_bad_points_settings(make_app):
    with pytest.raises(RuntimeError, match="POINTS_SPEND_RATE"):
        make_app(POINTS_SPEND_RATE=0)


@pytest.mark.parametrize(
    ("answers", "verdict"),
    [
        ([], None),
        ([None], None),
        (["wait"], "wait"),
        (["wait", None], "wait"),
        (["void", "wait"], "void"),
        ([None, "void"], "void"),
    ],
)
def test_a_sharers_held_points_wait_or_are_void_on_any_listeners_word(answers, verdict):
    assert rules.share_verdict(answers) == verdict

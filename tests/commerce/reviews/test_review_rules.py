"""The review rules as tables: who may review, edit, delete and answer; the rating's numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commerce.reviews import rules

T0 = datetime(2026, 12, 1, 12, 0)


@pytest.mark.parametrize(
    ("buyer", "delivered", "user", "expected"),
    [
        (1, T0, 1, True),
        (1, None, 1, False),  # not delivered yet
        (1, T0, 2, False),  # someone else's line
    ],
)
def test_may_review(buyer, delivered, user, expected):
    assert rules.may_review(rules.LineFacts(buyer, delivered), user) is expected


@pytest.mark.parametrize(
    ("state", "author", "user", "age", "expected"),
    [
        ("visible", 1, 1, timedelta(days=1), True),
        ("visible", 1, 1, timedelta(days=29, hours=23), True),
        ("visible", 1, 1, timedelta(days=30), False),  # the window closed
        ("visible", 1, 2, timedelta(days=1), False),
        ("hidden", 1, 1, timedelta(days=1), False),
        ("deleted", 1, 1, timedelta(days=1), False),
    ],
)
def test_may_edit(state, author, user, age, expected):
    assert rules.may_edit(state, author, user, T0, T0 + age) is expected


@pytest.mark.parametrize(
    ("state", "author", "user", "expected"),
    [("visible", 1, 1, True), ("visible", 1, 2, False), ("deleted", 1, 1, False)],
)
def test_may_delete(state, author, user, expected):
    assert rules.may_delete(state, author, user) is expected


@pytest.mark.parametrize(
    ("state", "merchant", "user", "has_reply", "expected"),
    [
        ("visible", 5, 5, False, True),
        ("visible", 5, 5, True, False),  # one answer
        ("visible", 5, 6, False, False),
        ("hidden", 5, 5, False, False),
    ],
)
def test_may_reply(state, merchant, user, has_reply, expected):
    assert rules.may_reply(state, merchant, user, has_reply) is expected


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [(0, 0, None), (1, 4, 4.0), (3, 13, 4.3), (2, 9, 4.5), (3, 14, 4.7), (7, 35, 5.0)],
)
def test_average(count, total, expected):
    assert rules.average(count, total) == expected


def test_histogram_and_bars():
    assert rules.histogram([(5, 3), (1, 1), (9, 4)]) == {5: 3, 4: 0, 3: 0, 2: 0, 1: 1}
    assert [rules.share_percent(n, 4) for n in (3, 0, 1)] == [75, 0, 25]
    assert rules.share_percent(1, 0) == 0
    assert rules.star_text(4) == "★★★★☆" and rules.star_text(0) == "★☆☆☆☆"

"""The For-you rule: a stored score that orders exactly like engagement with time decay."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from commerce.videos.rules import DECAY_SECONDS, Engagement, decayed_value, rank_score

T0 = datetime(2026, 12, 1, 12, 0)
DAY = timedelta(seconds=DECAY_SECONDS)


@pytest.mark.parametrize(
    ("a", "a_age", "b", "b_age", "a_first"),
    [
        # same age: more engagement first
        (Engagement(likes=10), timedelta(0), Engagement(likes=9), timedelta(0), True),
        # a like outweighs a view, a favourite a like, a purchase a favourite
        (Engagement(likes=1), timedelta(0), Engagement(views=3), timedelta(0), True),
        (Engagement(favourites=1), timedelta(0), Engagement(likes=1), timedelta(0), True),
        (Engagement(purchases=1), timedelta(0), Engagement(favourites=4), timedelta(0), True),
        # same engagement: newer first
        (Engagement(likes=5), timedelta(hours=1), Engagement(likes=5), timedelta(hours=2), True),
        # one decay older needs e times the (1 + points): 1+4*30=121 vs 1+4*11=45 (x2.69 < e)
        (Engagement(likes=11), timedelta(0), Engagement(likes=30), DAY, True),
        (Engagement(likes=11), timedelta(0), Engagement(likes=31), DAY, False),  # x2.78 > e
        # products on sale count as doubling the engagement
        (
            Engagement(likes=3, has_products=True),
            timedelta(0),
            Engagement(likes=6),
            timedelta(0),
            True,
        ),
        (
            Engagement(likes=2, has_products=True),
            timedelta(0),
            Engagement(likes=6),
            timedelta(0),
            False,
        ),
        # a week-old hit against a fresh video with nothing
        (Engagement(views=2000, likes=300), 7 * DAY, Engagement(), timedelta(0), True),
        (Engagement(views=100, likes=10), 7 * DAY, Engagement(), timedelta(0), False),
        # negative counters (never stored, but clamped) count as zero
        (Engagement(likes=-5), timedelta(0), Engagement(), timedelta(0), None),
    ],
)
def test_order_by_score_is_order_by_decayed_engagement(a, a_age, b, b_age, a_first):
    score_a, score_b = rank_score(a, T0 - a_age), rank_score(b, T0 - b_age)
    if a_first is None:
        assert score_a == score_b
        return
    assert (score_a > score_b) is a_first
    # ... and it is the same order the decayed value gives at any later moment.
    for later in (timedelta(0), timedelta(hours=5), 30 * DAY):
        now = T0 + later
        value_a, value_b = decayed_value(a, T0 - a_age, now), decayed_value(b, T0 - b_age, now)
        assert (value_a > value_b) is a_first


def test_score_does_not_change_with_time_only_with_engagement():
    published = T0 - timedelta(hours=3)
    assert rank_score(Engagement(likes=1), published) > rank_score(Engagement(), published)
    # The difference between two scores is the log of the ratio of their decayed values.
    a, b = Engagement(likes=7), Engagement(views=2)
    diff = rank_score(a, published) - rank_score(b, published - timedelta(hours=10))
    ratio = decayed_value(a, published, T0) / decayed_value(b, published - timedelta(hours=10), T0)
    assert math.isclose(diff, math.log(ratio), rel_tol=1e-9)

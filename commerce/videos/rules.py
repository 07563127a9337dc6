"""The "For you" ranking as pure rules: engagement with time decay, kept in one stored number.

What we want at any moment `now` is every published video ordered by

    value = (1 + engagement) * exp(-(now - published_at) / DECAY)

engagement counted by the weights below, and a bonus factor for videos that pin products on sale
(the feed sells: a creator's products should stay in view). Its logarithm is

    log(1 + engagement) + log(bonus) + published_at / DECAY  -  now / DECAY

and the last term is the same for every video, so it never changes the order. What is left, the
`rank_score`, depends on the video alone: it changes when its engagement does (a like, a view, a
purchase, a pin) and never because time passes. So it is a column updated with the engagement,
read through an index in score order, as cheap as the newest-first feed; no periodic job has to
re-score anything. Older videos sink by themselves, because newer ones start higher: a video a
DECAY older needs e times the engagement to rank level.

Watch time comes from the feed player's beacons (commerce/videos/watch.py), each viewing capped
at the video's length; comments count once visible to others (Video.comment_count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

EPOCH = datetime(2024, 1, 1)  # naive UTC, like stored times; only keeps the numbers small
DECAY_SECONDS = 24 * 3600.0  # e-folding time: a day older needs e (2.7) times the engagement

# What one of each is worth, in views. A view is cheap (a swipe past counts); a like is a tap
# that says "more like this"; a favourite means coming back; a purchase is what the feed is for.
VIEW, LIKE, FAVOURITE, COMMENT, PURCHASE = 1.0, 4.0, 6.0, 5.0, 25.0
PRODUCT_BONUS = 2.0  # a video with products on sale ranks as if its engagement were doubled

# Watch time, in points per second watched. A view says someone swiped onto the video; the
# seconds they stayed say whether it held them, the strongest signal a short-video feed has.
# It is weighted low per second all the same: watching is passive and the cheapest thing to
# fake (a tab left open), and a long video would otherwise outrank a short one by length
# alone. At 0.1, a 15 s video watched to the end adds 1.5 points (a view and a half), a 60 s
# one 6 (about a like and a half): holding many viewers matters, one viewer's minutes do not.
# Each viewing adds at most the video's length (watch_credit), so a loop cannot farm it.
WATCH_PER_SECOND = 0.1
# Without a known length (still processing), a viewing credits at most this much.
WATCH_CAP_UNKNOWN_MS = 60_000
# Beacons may arrive a little after the time they report: this much leeway over the server's
# clock since the viewing started.
WATCH_CLOCK_SLACK_MS = 5_000


@dataclass(frozen=True)
class Engagement:
    views: int = 0
    likes: int = 0
    favourites: int = 0
    purchases: int = 0
    comments: int = 0
    watch_ms: int = 0
    has_products: bool = False

    def points(self) -> float:
        """The weighted sum, never negative (counters are clamped at zero)."""
        return (
            VIEW * max(0, self.views)
            + LIKE * max(0, self.likes)
            + FAVOURITE * max(0, self.favourites)
            + COMMENT * max(0, self.comments)
            + PURCHASE * max(0, self.purchases)
            + WATCH_PER_SECOND * max(0, self.watch_ms) / 1000
        )


def rank_score(engagement: Engagement, published_at: datetime) -> float:
    """log(1 + points) + log(bonus) + age of the publish time in DECAYs: bigger ranks higher."""
    bonus = math.log(PRODUCT_BONUS) if engagement.has_products else 0.0
    return (
        math.log1p(engagement.points())
        + bonus
        + (published_at - EPOCH).total_seconds() / DECAY_SECONDS
    )


def decayed_value(engagement: Engagement, published_at: datetime, now: datetime) -> float:
    """The value the score orders by, as seen at `now` (for tests and explanations)."""
    bonus = PRODUCT_BONUS if engagement.has_products else 1.0
    age = (now - published_at).total_seconds()
    return (1 + engagement.points()) * bonus * math.exp(-age / DECAY_SECONDS)


def watch_credit(reported_ms: int, credited_ms: int, duration_ms: int, elapsed_ms: int) -> int:
    """Milliseconds of a beacon's report to add to a viewing that has credited_ms already.

    A viewing adds at most the video's length, and never more than the time that really passed
    on the server's clock since it started (plus a little slack): a client that reports an hour
    in one second gets the second.
    """
    cap = duration_ms if duration_ms > 0 else WATCH_CAP_UNKNOWN_MS
    wall = max(0, elapsed_ms) + WATCH_CLOCK_SLACK_MS
    room = min(cap, wall) - max(0, credited_ms)
    return max(0, min(max(0, reported_ms), room))

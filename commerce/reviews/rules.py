"""Pure review rules: who may review which order line, how long a review stays editable, and
the numbers a product's rating is shown with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from commerce.catalog.rules import rating_average

VISIBLE, HIDDEN, DELETED = "visible", "hidden", "deleted"
STATES = (VISIBLE, HIDDEN, DELETED)

MIN_STARS, MAX_STARS = 1, 5
MAX_TEXT = 1000
MAX_REPLY = 500
MAX_PHOTOS = 6
PHOTO_SIDE = 1600  # pixels on the long side once re-encoded
PAGE_SIZE = 10
PRODUCT_PAGE_REVIEWS = 5  # the newest shown on the product page itself

# Editable for 30 days after it was written. Long enough to correct a slip or to say how the
# product held up after some use; short enough that the stars later buyers read still describe
# the purchase, and that nobody can be pressed months later (a seller offering a refund or a
# gift "for a better review") into rewriting it. Deleting stays possible at any time: a buyer
# may always take their words back.
EDIT_WINDOW = timedelta(days=30)

# Writes (reviews, edits, replies) per account per hour: each may carry photos to re-encode.
WRITES_PER_HOUR = 30
WRITE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class LineFacts:
    """What the rules need to know about an order line someone wants to review."""

    buyer_id: int
    delivered_at: datetime | None


def may_review(line: LineFacts, user_id: int) -> bool:
    """The buyer, once the parcel was delivered (a later refund does not take the right away:
    the review of a broken item is the one later buyers most need)."""
    return line.buyer_id == user_id and line.delivered_at is not None


def edit_deadline(created_at: datetime) -> datetime:
    return created_at + EDIT_WINDOW


def may_edit(state: str, author_id: int, user_id: int, created_at: datetime, now: datetime) -> bool:
    return state == VISIBLE and author_id == user_id and now < edit_deadline(created_at)


def may_delete(state: str, author_id: int, user_id: int) -> bool:
    return state == VISIBLE and author_id == user_id


def may_reply(state: str, merchant_id: int, user_id: int, has_reply: bool) -> bool:
    """The product's seller answers once, under the review."""
    return state == VISIBLE and merchant_id == user_id and not has_reply


def counts_in_rating(state: str) -> bool:
    return state == VISIBLE


def average(count: int, star_sum: int) -> float | None:
    """One decimal, as shops show it; None before the first review."""
    return rating_average(count, star_sum)


def histogram(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    """(stars, count) rows to a count for every star from 5 down to 1 (zeros included)."""
    counts = {stars: 0 for stars in range(MAX_STARS, MIN_STARS - 1, -1)}
    for stars, n in rows:
        if MIN_STARS <= stars <= MAX_STARS:
            counts[stars] += n
    return counts


def share_percent(part: int, total: int) -> int:
    """A histogram bar's width in whole percent (0 when there is nothing to share)."""
    if total <= 0:
        return 0
    return round(100 * part / total)


def star_text(stars: int) -> str:
    """★★★★☆ for 4: the compact form cards and lists use beside the number."""
    stars = max(MIN_STARS, min(MAX_STARS, stars))
    return "★" * stars + "☆" * (MAX_STARS - stars)

"""Review reads: a product's visible reviews by keyset, the rating in short, lines' reviews."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from commerce.accounts.models import User
from commerce.catalog.models import Product
from commerce.pagination import decode_cursor, encode_cursor
from commerce.reviews import rules
from commerce.reviews.models import Review, ReviewPhoto
from commerce.reviews.services import rating_histogram

# Authors, their avatars and the photos of a page in a few queries, not a few per review.
_LOAD = (
    selectinload(Review.author).selectinload(User.avatar),
    selectinload(Review.photos).selectinload(ReviewPhoto.object),
)


@dataclass(frozen=True)
class Summary:
    average: float | None
    count: int
    histogram: dict[int, int]  # stars (5 down to 1) -> visible reviews

    def bars(self) -> list[tuple[int, int, int]]:
        """(stars, count, percent) rows for the histogram, 5 stars first."""
        return [(s, n, rules.share_percent(n, self.count)) for s, n in self.histogram.items()]


def summary(session: Session, product: Product) -> Summary:
    return Summary(
        average=rules.average(product.review_count, product.review_star_sum),
        count=product.review_count,
        histogram=rating_histogram(session, product.id),
    )


def reviews_page(
    session: Session, product_id: int, cursor: str | None, limit: int
) -> tuple[list[Review], str | None]:
    """Visible reviews, newest first (keyset on (created_at, id) over ix_reviews_product_recent)."""
    query = (
        select(Review)
        .options(*_LOAD)
        .where(Review.product_id == product_id, Review.state == rules.VISIBLE)
    )
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(
            or_(Review.created_at < when, and_(Review.created_at == when, Review.id < ident))
        )
    rows = list(
        session.scalars(query.order_by(Review.created_at.desc(), Review.id.desc()).limit(limit + 1))
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, None


def reviews_of_lines(session: Session, line_ids: Iterable[int]) -> dict[int, Review]:
    ids = list(line_ids)
    if not ids:
        return {}
    return {
        r.order_line_id: r
        for r in session.scalars(select(Review).where(Review.order_line_id.in_(ids)))
    }

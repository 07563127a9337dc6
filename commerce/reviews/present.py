"""Reviews as the API and the pages show them to one viewer."""

from __future__ import annotations

from datetime import datetime

from commerce.accounts.models import User
from commerce.files.services import object_url
from commerce.reviews import rules
from commerce.reviews.models import Review
from commerce.reviews.queries import Summary
from commerce.reviews.schemas import (
    PhotoOut,
    RatingSummaryOut,
    ReplyOut,
    ReviewAuthorOut,
    ReviewOut,
)


def review_out(review: Review, viewer: User | None, now: datetime) -> ReviewOut:
    user_id = viewer.id if viewer else -1
    return ReviewOut(
        id=review.id,
        product_id=review.product_id,
        order_line_id=review.order_line_id,
        stars=review.stars,
        text=review.text,
        author=ReviewAuthorOut(
            id=review.author.id,
            display_name=review.author.display_name,
            avatar_url=object_url(review.author.avatar),
        ),
        photos=[PhotoOut(id=p.id, url=object_url(p.object) or "") for p in review.photos],
        created_at=review.created_at,
        edited_at=review.edited_at,
        editable_until=rules.edit_deadline(review.created_at),
        reply=(
            ReplyOut(text=review.reply_text, replied_at=review.replied_at)
            if review.reply_text is not None and review.replied_at is not None
            else None
        ),
        mine=review.author_id == user_id,
        can_edit=rules.may_edit(review.state, review.author_id, user_id, review.created_at, now),
        can_reply=rules.may_reply(
            review.state, review.merchant_id, user_id, review.reply_text is not None
        ),
    )


def summary_out(summary: Summary) -> RatingSummaryOut:
    return RatingSummaryOut(
        average=summary.average,
        count=summary.count,
        histogram={str(stars): n for stars, n in summary.histogram.items()},
    )

"""Review use cases: write (once per delivered order line), edit, delete, reply, hide.

Photos are decoded and re-encoded by content before anything is kept, so a bad file refuses
the whole review with nothing stored; bytes written for a review that then fails (a racing
twin took the line, the commit failed) are deleted by files.discard_on_rollback. The product's
rating (Product.review_count, review_star_sum) moves by one atomic UPDATE with each change of
a visible review, in the same transaction, so it always matches the visible reviews.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.bans import may_post
from commerce.accounts.models import RateEvent, User
from commerce.accounts.services import count_recent
from commerce.catalog.models import Product
from commerce.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from commerce.files.services import discard_on_rollback, store_encoded
from commerce.locking import lock_row
from commerce.orders.models import Order, OrderLine
from commerce.realtime import after_commit
from commerce.reviews import rules
from commerce.reviews.models import Review, ReviewPhoto
from media.storage import Storage


def access_line_to_review(session: Session, line_id: int, user: User) -> OrderLine:
    """The buyer's own order line; anyone else's is a 404, so lines do not leak by existence."""
    line = session.get(OrderLine, line_id)
    if line is None or line.order.buyer_id != user.id:
        raise NotFound(_l("This order line does not exist."))
    return line


def access_review(session: Session, review_id: int) -> Review:
    """A review anyone may see (visible); hidden and deleted ones are gone for the public."""
    review = session.get(Review, review_id)
    if review is None or review.state != rules.VISIBLE:
        raise NotFound(_l("This review does not exist."))
    return review


def review_of_line(session: Session, line_id: int) -> Review | None:
    return session.scalar(select(Review).where(Review.order_line_id == line_id))


def check_write_rate(session: Session, user: User, now: datetime) -> None:
    bucket = f"review:{user.id}"
    if count_recent(session, bucket, now - rules.WRITE_WINDOW) >= rules.WRITES_PER_HOUR:
        raise RateLimited(
            _l("You have written a lot of reviews in a short time: try again later."),
            retry_after=int(rules.WRITE_WINDOW.total_seconds()),
        )
    session.add(RateEvent(bucket=bucket, at=now))


def _facts(order: Order) -> rules.LineFacts:
    return rules.LineFacts(buyer_id=order.buyer_id, delivered_at=order.delivered_at)


def _bump_rating(session: Session, product_id: int, count: int, stars: int) -> None:
    # One UPDATE: concurrent reviews of one product each add theirs, none is lost.
    session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(
            review_count=Product.review_count + count,
            review_star_sum=Product.review_star_sum + stars,
        )
        .execution_options(synchronize_session=False)
    )


def _store_photos(
    session: Session, backend: Storage, review: Review, photos: Sequence[bytes], start: int
) -> None:
    for position, jpeg in enumerate(photos, start=start):
        obj = store_encoded(session, backend, jpeg, prefix=f"reviews/{review.id}/")
        discard_on_rollback(session, backend, obj.key)
        review.photos.append(ReviewPhoto(object=obj, position=position))
    session.flush()


def do_write_review(
    session: Session,
    backend: Storage,
    author: User,
    line: OrderLine,
    *,
    stars: int,
    text: str,
    photos: Sequence[bytes],
    now: datetime,
) -> Review:
    """Review a delivered line once. Of two racing submissions the unique order line keeps one;
    the other is a 409 and stores nothing."""
    if not may_post(session, author.id):
        raise Forbidden(_l("Your account may not post reviews."), code="suspended")
    if not rules.may_review(_facts(line.order), author.id):
        raise Conflict(
            _l("You can review an item once it has been delivered."), code="not_delivered"
        )
    if len(photos) > rules.MAX_PHOTOS:
        raise ValidationFailed(
            _l("A review can have at most %(n)d photos.", n=rules.MAX_PHOTOS),
            code="too_many_photos",
        )
    if review_of_line(session, line.id) is not None:
        raise Conflict(_l("You have already reviewed this item."), code="already_reviewed")
    check_write_rate(session, author, now)
    review = Review(
        order_line_id=line.id,
        order_id=line.order_id,
        product_id=line.product_id,
        merchant_id=line.order.merchant_id,
        author_id=author.id,
        stars=stars,
        text=text,
        created_at=now,
    )
    try:
        with session.begin_nested():  # the unique line refuses a racing twin here
            session.add(review)
    except IntegrityError as exc:
        raise Conflict(_l("You have already reviewed this item."), code="already_reviewed") from exc
    _bump_rating(session, line.product_id, 1, stars)
    _store_photos(session, backend, review, photos, 0)
    return review


def _locked_own(session: Session, review: Review) -> Review:
    locked = lock_row(session, Review, review.id)
    assert locked is not None
    return locked


def do_edit_review(
    session: Session,
    backend: Storage,
    review: Review,
    author: User,
    *,
    stars: int | None,
    text: str | None,
    add_photos: Sequence[bytes],
    remove_photo_ids: Sequence[int],
    now: datetime,
) -> Review:
    locked = _locked_own(session, review)
    if locked.author_id != author.id:
        raise NotFound(_l("This review does not exist."))
    if not rules.may_edit(locked.state, locked.author_id, author.id, locked.created_at, now):
        raise Conflict(
            _l(
                "Reviews can be changed for %(days)d days after they are written.",
                days=rules.EDIT_WINDOW.days,
            ),
            code="edit_window_over",
        )
    check_write_rate(session, author, now)
    removed = [p for p in locked.photos if p.id in set(remove_photo_ids)]
    if len(locked.photos) - len(removed) + len(add_photos) > rules.MAX_PHOTOS:
        raise ValidationFailed(
            _l("A review can have at most %(n)d photos.", n=rules.MAX_PHOTOS),
            code="too_many_photos",
        )
    if stars is not None and stars != locked.stars:
        _bump_rating(session, locked.product_id, 0, stars - locked.stars)
        locked.stars = stars
    if text is not None:
        locked.text = text
    _remove_photos(session, backend, locked, removed)
    start = max((p.position for p in locked.photos), default=-1) + 1
    _store_photos(session, backend, locked, add_photos, start)
    locked.edited_at = now
    session.flush()
    return locked


def _remove_photos(
    session: Session, backend: Storage, review: Review, photos: Sequence[ReviewPhoto]
) -> None:
    keys = [p.object.key for p in photos]
    for photo in photos:
        review.photos.remove(photo)
        session.delete(photo.object)
    session.flush()

    def delete_bytes() -> None:  # bytes go once the rows are gone for good
        for key in keys:
            backend.delete(key)

    if keys:
        after_commit(session, delete_bytes)


def do_delete_review(
    session: Session, backend: Storage, review: Review, author: User, now: datetime
) -> None:
    """The author takes the review back: stars, words and photos go; the line stays reviewed."""
    locked = _locked_own(session, review)
    if not rules.may_delete(locked.state, locked.author_id, author.id):
        raise NotFound(_l("This review does not exist."))
    _leave_visible(session, locked, rules.DELETED, author, now)
    locked.text, locked.reply_text = "", None
    _remove_photos(session, backend, locked, list(locked.photos))


def do_hide_review(session: Session, review: Review, admin: User, now: datetime) -> Review:
    """An admin's decision on a report (the audit entry is written by moderation); photos are
    kept as evidence but no page lists them any more."""
    locked = _locked_own(session, review)
    if locked.state == rules.VISIBLE:
        _leave_visible(session, locked, rules.HIDDEN, admin, now)
    return locked


def _leave_visible(
    session: Session, review: Review, state: str, actor: User, now: datetime
) -> None:
    if rules.counts_in_rating(review.state):
        _bump_rating(session, review.product_id, -1, -review.stars)
    review.state, review.removed_at, review.removed_by_id = state, now, actor.id
    session.flush()


def do_reply(session: Session, review: Review, merchant: User, text: str, now: datetime) -> Review:
    """The seller's one answer, shown under the review."""
    locked = _locked_own(session, review)
    if locked.merchant_id != merchant.id:
        raise Forbidden(_l("Only the seller of this product can answer its reviews."))
    if not rules.may_reply(
        locked.state, locked.merchant_id, merchant.id, locked.reply_text is not None
    ):
        raise Conflict(_l("This review already has your answer."), code="already_replied")
    check_write_rate(session, merchant, now)
    locked.reply_text, locked.replied_at = text, now
    session.flush()
    return locked


def rating_histogram(session: Session, product_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Review.stars, func.count())
        .where(Review.product_id == product_id, Review.state == rules.VISIBLE)
        .group_by(Review.stars)
    )
    return rules.histogram((int(stars), int(n)) for stars, n in rows)

"""Reviews JSON API: write (multipart, with photos), edit, delete, the seller's reply, and a
product's reviews by keyset with its rating in short."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from commerce.accounts.auth import current_user, require_user
from commerce.apispec import endpoint, parse
from commerce.catalog.services import access_product_for_viewing
from commerce.errors import ValidationFailed
from commerce.extensions import db
from commerce.files.services import encode_image, storage
from commerce.reviews import queries, rules, services
from commerce.reviews.present import review_out, summary_out
from commerce.reviews.schemas import (
    ReplyIn,
    ReviewEditIn,
    ReviewIn,
    ReviewOut,
    ReviewPage,
    ReviewsQuery,
)
from commerce.timeutil import utcnow

bp = Blueprint("reviews_api", __name__, url_prefix="/api/v1")


def read_photos(field: str = "photos") -> list[bytes]:
    """The uploaded photos, each checked and re-encoded by content before anything is stored.
    An empty file part (a form sent with no photo chosen) is not a photo."""
    uploads = [u for u in request.files.getlist(field) if u.filename]
    if len(uploads) > rules.MAX_PHOTOS:
        raise ValidationFailed(
            _("A review can have at most %(n)d photos.", n=rules.MAX_PHOTOS),
            fields={field: _("Too many photos.")},
        )
    return [encode_image(u.stream, max_side=rules.PHOTO_SIDE) for u in uploads]


@endpoint(
    bp,
    "/order-lines/<int:line_id>/review",
    methods=("POST",),
    summary="Review a delivered order line once: stars, text, up to 6 photos (multipart "
    "fields 'stars', 'text', 'photos')",
    response=ReviewOut,
    status=201,
    raw_body="multipart/form-data",
    errors=(403, 404, 409, 413, 429),
)
def write_review(line_id: int) -> ReviewOut:
    user = require_user()
    line = services.access_line_to_review(db.session, line_id, user)
    data = parse(ReviewIn, request.form.to_dict())
    assert isinstance(data, ReviewIn)
    photos = read_photos()
    now = utcnow()
    review = services.do_write_review(
        db.session, storage(), user, line, stars=data.stars, text=data.text, photos=photos, now=now
    )
    db.session.commit()
    return review_out(review, user, now)


@endpoint(
    bp,
    "/reviews/<int:review_id>",
    methods=("PATCH",),
    summary="Change your review's stars or text, or remove photos (for 30 days after writing)",
    body=ReviewEditIn,
    response=ReviewOut,
    errors=(404, 409, 429),
)
def edit_review(review_id: int, body: ReviewEditIn) -> ReviewOut:
    user = require_user()
    review = services.access_review(db.session, review_id)
    now = utcnow()
    review = services.do_edit_review(
        db.session,
        storage(),
        review,
        user,
        stars=body.stars,
        text=body.text,
        add_photos=[],
        remove_photo_ids=body.remove_photo_ids,
        now=now,
    )
    db.session.commit()
    return review_out(review, user, now)


@endpoint(
    bp,
    "/reviews/<int:review_id>",
    methods=("DELETE",),
    summary="Delete your review (its photos too); the item cannot be reviewed again",
    status=204,
    errors=(404,),
)
def delete_review(review_id: int) -> Response:
    user = require_user()
    review = services.access_review(db.session, review_id)
    services.do_delete_review(db.session, storage(), review, user, utcnow())
    db.session.commit()
    return Response(status=204)


@endpoint(
    bp,
    "/reviews/<int:review_id>/reply",
    methods=("PUT",),
    summary="The seller's one answer to a review of their product",
    body=ReplyIn,
    response=ReviewOut,
    errors=(403, 404, 409, 429),
)
def reply_review(review_id: int, body: ReplyIn) -> ReviewOut:
    user = require_user()
    review = services.access_review(db.session, review_id)
    now = utcnow()
    review = services.do_reply(db.session, review, user, body.text, now)
    db.session.commit()
    return review_out(review, user, now)


@endpoint(
    bp,
    "/products/<int:product_id>/reviews",
    summary="A product's reviews, newest first (keyset cursor); the first page has the rating",
    query=ReviewsQuery,
    response=ReviewPage,
    auth=False,
    errors=(404,),
)
def product_reviews(product_id: int, query: ReviewsQuery) -> ReviewPage:
    user = current_user()
    product = access_product_for_viewing(db.session, product_id, user)
    items, cursor = queries.reviews_page(db.session, product.id, query.cursor, rules.PAGE_SIZE)
    now = utcnow()
    return ReviewPage(
        items=[review_out(r, user, now) for r in items],
        next_cursor=cursor,
        summary=None if query.cursor else summary_out(queries.summary(db.session, product)),
    )

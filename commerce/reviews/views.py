"""Review pages: write or change a review of a delivered line, a product's reviews by keyset,
and the template helpers the product and order pages (lower areas) use to show reviews."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_user
from commerce.apispec import parse
from commerce.catalog.models import Product
from commerce.catalog.services import access_product_for_viewing
from commerce.errors import DomainError, NotFound
from commerce.extensions import db
from commerce.files.services import storage
from commerce.orders.lifecycle import access_order_for_buyer
from commerce.orders.models import Order
from commerce.reviews import queries, rules, services
from commerce.reviews.api import read_photos
from commerce.reviews.models import Review
from commerce.reviews.schemas import ReplyIn, ReviewIn
from commerce.timeutil import utcnow

bp = Blueprint("reviews", __name__)


def _form_page(order: Order, line_id: int, review: Review | None, error: DomainError | None):
    line = next((x for x in order.lines if x.id == line_id), None)
    if line is None:
        raise NotFound(_("This order line does not exist."))
    now = utcnow()
    editable = review is not None and rules.may_edit(
        review.state, review.author_id, order.buyer_id, review.created_at, now
    )
    return render_template(
        "reviews/write.html",
        order=order,
        line=line,
        review=review,
        editable=editable,
        deadline=rules.edit_deadline(review.created_at) if review else None,
        values=request.form if error else {},
        error=error,
        max_photos=rules.MAX_PHOTOS,
        max_text=rules.MAX_TEXT,
        reviewable=rules.may_review(
            rules.LineFacts(order.buyer_id, order.delivered_at), order.buyer_id
        ),
    ), (error.status if error else 200)


@bp.route("/orders/<public_id>/lines/<int:line_id>/review", methods=["GET", "POST"])
@login_required
def write_page(public_id: str, line_id: int) -> Any:
    user = require_user()
    order = access_order_for_buyer(db.session, public_id, user)
    line = services.access_line_to_review(db.session, line_id, user)
    if line.order_id != order.id:
        raise NotFound(_("This order line does not exist."))
    review = services.review_of_line(db.session, line.id)
    if request.method == "GET":
        return _form_page(order, line.id, review, None)
    try:
        data = parse(ReviewIn, request.form.to_dict())
        assert isinstance(data, ReviewIn)
        photos = read_photos()
        now = utcnow()
        if review is None:
            services.do_write_review(
                db.session,
                storage(),
                user,
                line,
                stars=data.stars,
                text=data.text,
                photos=photos,
                now=now,
            )
        else:
            services.do_edit_review(
                db.session,
                storage(),
                review,
                user,
                stars=data.stars,
                text=data.text,
                add_photos=photos,
                remove_photo_ids=[
                    int(v) for v in request.form.getlist("remove_photo") if v.isdigit()
                ],
                now=now,
            )
    except DomainError as error:
        db.session.rollback()
        return _form_page(order, line.id, services.review_of_line(db.session, line.id), error)
    db.session.commit()
    flash(_("Thank you: your review is published."))
    return redirect(url_for("catalog.product_page", product_id=line.product_id) + "#reviews")


@bp.post("/reviews/<int:review_id>/delete")
@login_required
def delete_review(review_id: int) -> Response:
    user = require_user()
    review = services.access_review(db.session, review_id)
    order = db.session.get(Order, review.order_id)
    services.do_delete_review(db.session, storage(), review, user, utcnow())
    db.session.commit()
    flash(_("Your review was deleted."))
    assert order is not None
    return redirect(url_for("orders.order_page", public_id=order.public_id))


@bp.post("/reviews/<int:review_id>/reply")
@login_required
def reply_review(review_id: int) -> Response:
    user = require_user()
    review = services.access_review(db.session, review_id)
    try:
        data = parse(ReplyIn, request.form.to_dict())
        assert isinstance(data, ReplyIn)
        services.do_reply(db.session, review, user, data.text, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message))
    else:
        db.session.commit()
        flash(_("Your answer is published under the review."))
    return redirect(url_for("reviews.product_reviews_page", product_id=review.product_id))


@bp.get("/products/<int:product_id>/reviews")
def product_reviews_page(product_id: int) -> str:
    product = access_product_for_viewing(db.session, product_id, current_user())
    cursor = request.args.get("cursor") or None
    items, next_cursor = queries.reviews_page(db.session, product.id, cursor, rules.PAGE_SIZE)
    return render_template(
        "reviews/list.html",
        product=product,
        summary=queries.summary(db.session, product),
        reviews=items,
        next_cursor=next_cursor,
        now=utcnow(),
    )


# Template helpers: the product page belongs to catalog and the order page to orders, both
# below reviews, so reviews offers these to templates rather than those areas importing it.


def product_reviews(product: Product) -> dict[str, Any]:
    """The product page's reviews section: the rating in short and the newest reviews."""
    items, next_cursor = queries.reviews_page(
        db.session, product.id, None, rules.PRODUCT_PAGE_REVIEWS
    )
    return {
        "summary": queries.summary(db.session, product),
        "reviews": items,
        "more": next_cursor is not None,
    }


def line_reviews(order: Order) -> dict[int, Review]:
    """The reviews of an order's lines (the order page's "Write a review" or "Your review")."""
    return queries.reviews_of_lines(db.session, [line.id for line in order.lines])


@bp.app_context_processor
def review_helpers() -> dict[str, Any]:
    return {
        "product_reviews": product_reviews,
        "line_reviews": line_reviews,
        "star_text": rules.star_text,
        "rating_average": rules.average,
    }

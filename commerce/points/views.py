"""Points pages: My points (balance, held, history, the check-in button) and the public rules."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import login_required, require_user
from commerce.errors import DomainError
from commerce.extensions import db
from commerce.pagination import decode_cursor
from commerce.points import services
from commerce.points.present import entries_out, points_out, rules_text, worth
from commerce.points.rules import terms_from_config
from commerce.timeutil import utcnow

bp = Blueprint("points", __name__)


@bp.get("/me/points")
@login_required
def my_points() -> str:
    user, terms, config = require_user(), terms_from_config(current_app.config), current_app.config
    cursor = request.args.get("cursor") or None
    if cursor:
        try:
            decode_cursor(cursor)
        except DomainError:
            cursor = None  # a hand-edited link shows the first page
    found = services.summary(db.session, user.id, utcnow(), terms, config["POINTS_TIMEZONE"])
    items, next_cursor = services.entries_page(db.session, user.id, cursor)
    return render_template(
        "points/mine.html",
        points=points_out(db.session, found, services.held_points(db.session, user.id), terms),
        worth=worth(found.balance, terms),
        entries=entries_out(db.session, items),
        next_cursor=next_cursor,
        first_page=cursor is None,
    )


@bp.post("/me/points/check-in")
@login_required
def check_in() -> Response:
    config = current_app.config
    try:
        done = services.do_check_in(
            db.session,
            require_user().id,
            utcnow(),
            terms_from_config(config),
            config["POINTS_TIMEZONE"],
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message)
        return redirect(url_for("points.my_points"))
    db.session.commit()
    flash(
        _(
            "Checked in: +%(points)s points (%(days)s days in a row).",
            points=done.points,
            days=done.streak,
        )
    )
    return redirect(url_for("points.my_points"))


@bp.get("/points/rules")
def rules_page() -> str:
    return render_template(
        "points/rules.html", rules=rules_text(terms_from_config(current_app.config))
    )

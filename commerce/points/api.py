"""Points JSON API: the balance (with what is held and what expires soon), the history, the daily
check-in. Checkout spends points through /orders (points_to_use) and its quote."""

from __future__ import annotations

from flask import Blueprint, current_app

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.points import services
from commerce.points.present import entries_out, points_out
from commerce.points.rules import terms_from_config
from commerce.points.schemas import CheckInOut, EntryPage, EntryQuery, PointsOut
from commerce.timeutil import utcnow

bp = Blueprint("points_api", __name__, url_prefix="/api/v1/points")


@endpoint(
    bp,
    "",
    summary="Your points: usable balance, held for the return window, expiring soon, the rules",
    response=PointsOut,
)
def get_points() -> PointsOut:
    user, terms = require_user(), terms_from_config(current_app.config)
    found = services.summary(
        db.session, user.id, utcnow(), terms, current_app.config["POINTS_TIMEZONE"]
    )
    return points_out(db.session, found, services.held_points(db.session, user.id), terms)


@endpoint(
    bp,
    "/entries",
    summary="Your points history, newest first (keyset pages)",
    query=EntryQuery,
    response=EntryPage,
    errors=(400,),
)
def list_entries(query: EntryQuery) -> EntryPage:
    user = require_user()
    items, cursor = services.entries_page(db.session, user.id, query.cursor)
    return EntryPage(items=entries_out(db.session, items), next_cursor=cursor)


@endpoint(
    bp,
    "/check-in",
    methods=("POST",),
    summary="Check in for today's points (once a day; 409 when already done)",
    response=CheckInOut,
    status=201,
    errors=(409,),
)
def check_in() -> CheckInOut:
    user, config = require_user(), current_app.config
    done = services.do_check_in(
        db.session, user.id, utcnow(), terms_from_config(config), config["POINTS_TIMEZONE"]
    )
    db.session.commit()
    return CheckInOut(points=done.points, streak=done.streak, balance=done.balance)

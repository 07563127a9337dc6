"""Follow pages: the creators and shops you follow."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from commerce.accounts.auth import login_required, require_user
from commerce.extensions import db
from commerce.social import services
from commerce.social.present import followed_out

bp = Blueprint("social", __name__)


@bp.get("/me/following")
@login_required
def following_page() -> str:
    user = require_user()
    cursor = request.args.get("cursor") or None
    rows, next_cursor = services.following_page(db.session, user, cursor=cursor, limit=30)
    return render_template(
        "social/following.html",
        items=[followed_out(u, at) for u, at in rows],
        total=services.following_count(db.session, user.id),
        next_cursor=next_cursor,
    )

"""Invite pages: Invite friends (/me/invites), the invite link's landing (/invite), the sign-up
page's offer, and the operators' review of flagged invitations (/admin/invites)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_user
from commerce.coupons.present import headline
from commerce.errors import NotFound
from commerce.extensions import db
from commerce.invites import services, settle
from commerce.invites.present import (
    SIGNAL_LABELS,
    invitations_out,
    invites_out,
    rules_out,
)
from commerce.invites.rules import settings_from_config
from commerce.timeutil import utcnow
from commerce.visitor import current_visitor_id

bp = Blueprint("invites", __name__)


def _settings() -> Any:
    return settings_from_config(current_app.config)


@bp.get("/me/invites")
@login_required
def my_invites() -> str:
    out = invites_out(db.session, require_user(), utcnow(), _settings())
    return render_template("invites/mine.html", out=out)


def visitor_offer() -> dict[str, str | None] | None:
    """For a visitor who arrived through a share link and has no account here yet: who
    invited them, and the welcome coupon's headline (None when there is none to give)."""
    if current_user() is not None:
        return None
    offer = services.offer_for_visitor(db.session, current_visitor_id(), utcnow(), _settings())
    if offer is None:
        return None
    welcome = headline(offer.welcome) if offer.welcome is not None else None
    return {"sharer_name": offer.sharer.display_name, "welcome": welcome}


@bp.get("/invite")
def landing() -> str:
    """Where an invite link lands: who invited you, the welcome coupon, the full rules."""
    return render_template(
        "invites/landing.html",
        offer=visitor_offer(),
        rules=rules_out(db.session, _settings()),
        user=current_user(),
    )


@bp.get("/admin/invites")
@login_required
def review() -> str:
    settle.check_admin(require_user())
    flagged = settle.flagged(db.session)
    settings = _settings()
    rows = zip(flagged, invitations_out(db.session, flagged, utcnow(), settings), strict=True)
    return render_template(
        "invites/admin.html",
        rows=list(rows),
        flags=settle.flags_of(db.session, flagged),
        signal_labels=SIGNAL_LABELS,
    )


@bp.post("/admin/invites/<int:invitation_id>/<decision>")
@login_required
def decide(invitation_id: int, decision: str) -> Response:
    if decision not in (settle.APPROVE, settle.REJECT):
        raise NotFound(_("Not found."))
    outcome = settle.do_review(
        db.session, require_user(), invitation_id, decision, utcnow(), _settings()
    )
    db.session.commit()
    if outcome == "rejected":
        flash(_("Invitation %(id)s rejected: no reward.", id=invitation_id))
    elif outcome == "ok":
        flash(_("Invitation %(id)s approved: the sharer was rewarded.", id=invitation_id))
    else:
        flash(
            _("Invitation %(id)s approved: the reward follows at the next run.", id=invitation_id)
        )
    return redirect(url_for("invites.review"))


def init_app(app: Flask) -> None:
    # The sign-up page (accounts, below this area) shows the offer through this global.
    app.jinja_env.globals["invite_offer"] = visitor_offer

"""Invites JSON API: your invitations, the rules, and how you were invited."""

from __future__ import annotations

from flask import Blueprint, current_app

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.invites.present import invites_out
from commerce.invites.rules import settings_from_config
from commerce.invites.schemas import InvitesOut
from commerce.timeutil import utcnow

bp = Blueprint("invites_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/invites",
    summary="Your invitations (invitees by display name only), the programme's full rules, the "
    "share target of your invite link, and your own welcome coupon if you were invited",
    response=InvitesOut,
)
def my_invites() -> InvitesOut:
    return invites_out(
        db.session, require_user(), utcnow(), settings_from_config(current_app.config)
    )

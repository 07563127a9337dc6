"""Attribution's listeners on other areas' signals (accounts never imports attribution)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.accounts.services import signed_in
from commerce.attribution.services import do_claim_clicks
from commerce.visitor import current_visitor_id


def claim_clicks_on_sign_in(user: User, *, session: Session, **_: Any) -> None:
    """The browser's anonymous share clicks become the new or returning account's."""
    do_claim_clicks(session, user, current_visitor_id())


def init_app(app: Flask) -> None:
    signed_in.connect(claim_clicks_on_sign_in)

"""Attribution's listeners on other areas' signals (accounts never imports attribution)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.accounts.services import signed_in
from commerce.attribution.review import share_reward_verdict
from commerce.attribution.services import do_claim_clicks
from commerce.order_signals import share_reward_due
from commerce.visitor import current_visitor_id


def claim_clicks_on_sign_in(user: User, *, session: Session, **_: Any) -> None:
    """The browser's anonymous share clicks become the new or returning account's."""
    do_claim_clicks(session, user, current_visitor_id())


def review_share_reward(
    _sender: object, *, session: Session, order_line_id: int, sharer_id: int, **_: Any
) -> str | None:
    """Points wait for, or lose with, the commission's fraud review of the same line."""
    return share_reward_verdict(session, order_line_id, sharer_id)


def init_app(app: Flask) -> None:
    signed_in.connect(claim_clicks_on_sign_in)
    share_reward_due.connect(review_share_reward)

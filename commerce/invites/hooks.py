"""Invites' listeners on lower areas: a sign-up through a share link joins, a paid first order
starts the reward's wait, a full refund voids it; an invitation is a share target.

Accounts sends `signed_in` (with new_account=True after a sign-up); payments sends `order_paid`
and `order_refunded` in their transactions. None of them knows invites exist (importlinter).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, flash, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.accounts.services import signed_in
from commerce.attribution import links
from commerce.coupons.present import headline
from commerce.invites import services
from commerce.invites.present import invite_target
from commerce.invites.rules import settings_from_config
from commerce.orders.models import Order
from commerce.payments.services import order_paid, order_refunded
from commerce.timeutil import utcnow
from commerce.visitor import current_visitor_id, hash_ip


def join_on_sign_up(user: User, *, session: Session, new_account: bool = False, **_kw: Any) -> None:
    """Only a new account, only in a browser (the visitor id and network are the request's)."""
    if not new_account or not has_request_context():
        return
    invitation = services.do_join(
        session,
        user,
        visitor_id=current_visitor_id(),
        ip_hash=hash_ip(request.remote_addr),
        now=utcnow(),
        settings=settings_from_config(current_app.config),
    )
    coupon = services.welcome_coupon(session, invitation)
    if invitation is not None and coupon is not None:
        # The banner on the page the sign-up lands on; /me/invites keeps showing it.
        flash(
            _(
                "%(name)s invited you: your welcome coupon (%(coupon)s) is in My coupons.",
                name=invitation.sharer.display_name,
                coupon=headline(coupon.template),
            )
        )


def first_order_paid(order: Order, *, session: Session, now: datetime, **_kw: Any) -> None:
    services.do_first_paid(session, order, now, settings_from_config(current_app.config))


def first_order_refunded(order: Order, *, session: Session, now: datetime, **_kw: Any) -> None:
    services.do_void_on_refund(session, order, now)


def install() -> None:
    """Idempotent: a second app in one process (tests) does not connect twice."""
    signed_in.connect(join_on_sign_up)
    order_paid.connect(first_order_paid)
    order_refunded.connect(first_order_refunded)
    links.EXTRA_TARGETS["invite"] = invite_target


def init_app(app: Flask) -> None:
    install()

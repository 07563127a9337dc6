"""Points' listeners on the order signals (commerce/order_signals.py): a paid order's lines earn
held points, delivery starts their return window, a refund shrinks or takes them back and gives
spent points back, a cancelled unpaid order gives its points back.

Orders and payments send these signals in their own transaction and never know points exist;
points never imports them either (the signals live below both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from commerce.order_signals import order_delivered, order_paid, order_refunded, order_released
from commerce.points import refunds, services
from commerce.points.rules import Terms, terms_from_config


def _terms() -> Terms:
    return terms_from_config(current_app.config)


def hold_earnings(order: Any, *, session: Session, now: datetime, **_: Any) -> None:
    services.do_hold_for_paid_order(session, order, now, _terms())


def start_return_window(order: Any, *, session: Session, now: datetime, **_: Any) -> None:
    services.do_start_hold(session, order.id, now, _terms())


def adjust_for_refund(order: Any, *, session: Session, now: datetime, **_: Any) -> None:
    refunds.do_adjust_for_refund(session, order, now, _terms())


def give_back_on_release(order: Any, *, session: Session, now: datetime, **_: Any) -> None:
    refunds.do_give_back_spent(session, order, now, cancelled=True)


def install() -> None:
    """Idempotent: a second app in one process (tests) does not connect twice."""
    order_paid.connect(hold_earnings)
    order_delivered.connect(start_return_window)
    order_refunded.connect(adjust_for_refund)
    order_released.connect(give_back_on_release)


def init_app(app: Flask) -> None:
    install()

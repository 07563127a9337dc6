"""Housekeeping for orders: unpaid orders expire, delivered orders complete by themselves."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from commerce.jobs.runner import periodic
from commerce.orders import lifecycle, services
from commerce.orders.present import publish_order
from commerce.timeutil import utcnow


@periodic(20)
def expire_unpaid_orders(session: Session) -> None:
    """Gives the units of orders past their payment deadline back, each exactly once."""
    for order in services.do_expire_orders(session, utcnow()):
        publish_order(session, order)


@periodic(3600)
def complete_delivered_orders(session: Session) -> None:
    lifecycle.do_auto_complete(session, utcnow(), current_app.config["ORDER_AUTO_COMPLETE_DAYS"])

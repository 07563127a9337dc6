"""Points test helpers: points granted straight into the ledger, orders placed, paid, shipped,
delivered and refunded through the API, balances read back."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from commerce.accounts.models import User
from commerce.extensions import db
from commerce.points import ledger
from commerce.points.models import GRANT, PointsAccount, PointsEntry, PointsHold
from commerce.timeutil import utcnow
from tests.commerce.orders.conftest import (  # noqa: F401  (fixtures shared with orders tests)
    buy_now,
    buyer_setup,
    create_address,
    place,
)
from tests.commerce.payments.conftest import (  # noqa: F401  (fixture)
    deliver,
    pay_with,
    start_payment,
    webhook_inbox,
)

CARD = "4242424242424242"


@pytest.fixture
def grant(app: Flask):
    """Credit `points` to `user` (an operator's grant), as of now."""

    def give(user: User, points: int, *, expires_at: Any = None) -> None:
        with app.app_context():
            ledger.post(
                db.session,
                user_id=user.id,
                kind=GRANT,
                amount=points,
                key=f"grant:{uuid.uuid4().hex}",
                now=utcnow(),
                expires_at=expires_at,
            )
            db.session.commit()

    return give


def balance(app: Flask, user: User) -> int:
    with app.app_context():
        return int(
            db.session.scalar(select(PointsAccount.balance).where(PointsAccount.user_id == user.id))
            or 0
        )


def ledger_sum(app: Flask, user: User) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                    PointsEntry.user_id == user.id
                )
            )
        )


def entries(app: Flask, user: User) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.scalars(
            select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id)
        )
        return [(e.kind, e.amount) for e in rows]


def holds(app: Flask, user: User) -> list[tuple[str, int, str]]:
    with app.app_context():
        rows = db.session.scalars(
            select(PointsHold).where(PointsHold.user_id == user.id).order_by(PointsHold.id)
        )
        return [(h.kind, h.amount, h.state) for h in rows]


def pay(app: Flask, api: Any, order_id: str) -> None:
    payment = start_payment(api, order_id)
    assert payment.status_code == 201, payment.get_json()
    pay_with(api, payment.get_json()["pay_url"], CARD)
    deliver(app)
    assert api.get(f"/api/v1/orders/{order_id}").get_json()["state"] == "paid"


def ship_and_deliver(seller: Any, order_id: str) -> None:
    shipped = seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF123456"})
    assert shipped.status_code == 200, shipped.get_json()
    delivered = seller.post(f"/api/v1/orders/{order_id}/deliver")
    assert delivered.status_code == 200, delivered.get_json()


def refund(seller: Any, order_id: str, amount: int) -> Any:
    return seller.post(
        f"/api/v1/orders/{order_id}/refund",
        {"amount_minor": amount, "reason": "returned"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def racing_release_runs(app: Flask, runs: int = 4) -> int:
    """`runs` release jobs at once, each in its own thread and session; how many holds they
    credited in all (a loser on SQLite's single writer counts 0)."""
    from commerce.points import services
    from commerce.points.rules import terms_from_config
    from commerce.timeutil import utcnow

    barrier = threading.Barrier(runs)
    done: list[int] = []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            try:
                done.append(
                    services.do_release_due(db.session, utcnow(), terms_from_config(app.config))
                )
                db.session.commit()
            except Exception:  # a loser on SQLite's single writer
                db.session.rollback()
                done.append(0)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sum(done)

"""A group that fails refunds its members through payments' refund: the points they spent on it
come back, and the points they would have earned are cancelled."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from commerce.extensions import db
from commerce.groupbuy import settle
from commerce.groupbuy.jobs import reverse_hook
from commerce.groupbuy.models import Group
from commerce.payments.webhooks import provider
from commerce.timeutil import utcnow
from tests.commerce.groupbuy.conftest import (  # noqa: F401  (fixtures)
    campaign,
    pay,
    shopper,
)
from tests.commerce.points.conftest import balance, entries, holds, ledger_sum


def test_an_expired_group_gives_the_spent_points_back(
    app,
    campaign,  # noqa: F811
    shopper,  # noqa: F811
    grant,
    webhook_inbox,
):
    made = campaign(group_size=3, stock=10)
    leader = shopper("Ann")
    grant(leader["user"], 1000)
    opened = leader["api"].post(
        "/api/v1/group-orders",
        {
            "product_id": made["product"].id,
            "address_id": leader["address_id"],
            "points_to_use": 1000,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["total_minor"] == 350  # ¥7.00 group price, half in points
    assert balance(app, leader["user"]) == 650
    pay(app, leader, opened.get_json()["order_id"])
    assert holds(app, leader["user"]) == [("purchase", 3, "held")]
    with app.app_context():
        db.session.execute(
            update(Group)
            .where(Group.public_id == opened.get_json()["group_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        now = utcnow()
        assert settle.do_expire_groups(db.session, provider(), now, reverse_hook(db.session, now))
        db.session.commit()
    assert balance(app, leader["user"]) == 1000 == ledger_sum(app, leader["user"])
    assert entries(app, leader["user"]) == [("grant", 1000), ("spend", -350), ("spend_back", 350)]
    assert holds(app, leader["user"]) == [("purchase", 0, "cancelled")]

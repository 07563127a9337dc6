"""`flask demo`: the demo content with each promotion a newcomer should see, and safe to run
twice (the second run adds nothing and fails on nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from commerce import demo
from commerce.coupons.models import CouponTemplate
from commerce.extensions import db
from commerce.groupbuy.models import Group, GroupCampaign, GroupSeat
from commerce.live.models import LiveRoom
from commerce.orders.models import Order
from commerce.payments.models import Payment


@pytest.fixture
def small_clips(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's clips, shorter and smaller: the test is about what the demo adds."""
    real = demo.generate_clip

    def small(path: Any, **kwargs: Any) -> Any:
        return real(path, **{**kwargs, "duration_s": 9, "width": 180, "height": 320})

    monkeypatch.setattr(demo, "generate_clip", small)


def _counts() -> dict[str, int]:
    def count(model: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    return {
        "templates": count(CouponTemplate),
        "campaigns": count(GroupCampaign),
        "groups": count(Group),
        "orders": count(Order),
        "payments": count(Payment),
        "rooms": count(LiveRoom),
    }


def test_the_demo_shows_each_promotion_and_runs_twice(app, small_clips):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "open group /groups/" in first.output
    with app.app_context():
        templates = db.session.scalars(select(CouponTemplate).order_by(CouponTemplate.id)).all()
        # (The invite programme's welcome and reward coupons are granted, never claimed.)
        assert [
            (t.funded_by, t.merchant_id is None, t.scope)
            for t in templates
            if t.audience != "granted"
        ] == [
            ("merchant", False, "products"),  # the shop's, on a demo product
            ("platform", True, "shop"),
            ("merchant", False, "creator"),  # the shop's LIVE voucher for the demo creator
        ]
        voucher = templates[-1]
        [room] = db.session.scalars(select(LiveRoom)).all()
        assert (voucher.live_only, voucher.creator_id, voucher.task) == (
            True,
            room.creator_id,
            "watch",
        )
        assert room.state == "scheduled" and len(room.shelf) == 3
        assert sorted(t.audience for t in templates).count("granted") == 2
        [campaign] = db.session.scalars(select(GroupCampaign)).all()
        [group] = db.session.scalars(select(Group)).all()
        # A real group: its leader's order is paid through the sandbox, nobody else is in it.
        assert (group.state, group.paid, group.held, group.campaign_id) == (
            "open",
            1,
            0,
            campaign.id,
        )
        [seat] = db.session.scalars(select(GroupSeat)).all()
        order = db.session.get(Order, seat.order_id)
        assert (seat.role, seat.state, order.state) == ("leader", "paid", "paid")
        assert order.total_minor == campaign.price_minor and order.ship_hold == "group"
        assert db.session.scalar(select(Payment.state).where(Payment.order_id == order.id)) == (
            "succeeded"
        )
        before = _counts()

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "coupons are already there" in second.output
    assert "an open group is already there" in second.output
    with app.app_context():
        assert _counts() == before

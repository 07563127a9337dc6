"""A sharer's points for a purchase through her link follow the fraud review of her commission on
the same line: held for review, they wait; approved, they are credited; rejected, or the sharer
banned, they are cancelled. The buyer's own points never wait for the sharer's review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.points.models import PointsHold
from tests.commerce.attribution.conftest import open_link, set_user
from tests.commerce.points.conftest import entries, holds, ship_and_deliver
from tests.commerce.points.test_earning import bought, release


@pytest.fixture
def flagged_purchase(app, buyer_setup, make_api, create_user, webhook_inbox):
    """A purchase through Sam's link by a buyer whose e-mail is Sam's in disguise: the sharer's
    commission is held for review; delivered, with the return window passed."""
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=20_000, sharer_rate_bp=500)
    sharer = create_user(name="Sam", email="samsmith@gmail.com")
    set_user(app, buyer.id, email="Sam.Smith+alt@googlemail.com")
    link = make_api(sharer).post(
        "/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)}
    )
    assert open_link(api, link.get_json()["url"]).status_code == 302
    order_id = bought(app, api, product, address_id)
    ship_and_deliver(make_api(merchant), order_id)
    admin = create_user(name="Root")
    set_user(app, admin.id, is_admin=True)
    return {"buyer": buyer, "sharer": sharer, "admin": make_api(admin)}


def held_commission(app, sharer) -> int:
    from commerce.attribution.models import Commission

    with app.app_context():
        return db.session.scalar(
            select(Commission.id).where(
                Commission.user_id == sharer.id, Commission.review == "held"
            )
        )


def test_held_for_review_the_sharer_waits_and_approval_credits(app, flagged_purchase):
    sharer, buyer = flagged_purchase["sharer"], flagged_purchase["buyer"]
    assert held_commission(app, sharer) is not None
    assert release(app) == 1  # the buyer's; the sharer's waits for the review
    assert entries(app, buyer) == [("purchase", 200)]
    assert holds(app, sharer) == [("share", 200, "held")]
    assert entries(app, sharer) == []
    commission_id = held_commission(app, sharer)
    assert commission_id is not None
    assert release(app) == 0  # still under review: asked again, still waiting
    review = flagged_purchase["admin"].post(
        f"/api/v1/admin/commissions/{commission_id}/review", {"decision": "approve"}
    )
    assert review.status_code == 200, review.get_json()
    assert release(app) == 1
    assert entries(app, sharer) == [("share", 200)]


def test_a_rejected_commission_cancels_the_sharers_points(app, flagged_purchase):
    sharer = flagged_purchase["sharer"]
    commission_id = held_commission(app, sharer)
    review = flagged_purchase["admin"].post(
        f"/api/v1/admin/commissions/{commission_id}/review", {"decision": "reject"}
    )
    assert review.status_code == 200, review.get_json()
    assert release(app) == 1  # the buyer's only
    assert holds(app, sharer) == [("share", 200, "cancelled")]
    assert entries(app, sharer) == []
    assert release(app) == 0


def test_a_banned_sharer_gets_no_points(app, flagged_purchase):
    sharer = flagged_purchase["sharer"]
    banned = flagged_purchase["admin"].post(f"/api/v1/admin/sharers/{sharer.id}/ban", {})
    assert banned.status_code == 200, banned.get_json()
    release(app)
    assert holds(app, sharer) == [("share", 200, "cancelled")]
    assert entries(app, sharer) == []


def test_a_waiting_hold_is_looked_at_again_later_not_every_run(app, flagged_purchase):
    from commerce.points.services import REVIEW_AGAIN
    from commerce.timeutil import utcnow

    sharer = flagged_purchase["sharer"]
    release(app)
    with app.app_context():
        hold = db.session.scalar(select(PointsHold).where(PointsHold.user_id == sharer.id))
        assert hold.hold_until > utcnow() + REVIEW_AGAIN / 2


def test_a_line_without_commission_cancels_points_when_the_buyer_looks_like_the_sharer(
    app, buyer_setup, make_api, create_user, webhook_inbox
):
    """No commission (a zero sharer rate), so nothing went to review: the same checks decide."""
    api, product, address_id, buyer, merchant = buyer_setup(price_minor=20_000, sharer_rate_bp=0)
    sharer = create_user(name="Sam", email="samsmith@gmail.com")
    honest = create_user(name="Hal")
    for who, email in ((buyer, "sam.smith+2@gmail.com"),):
        set_user(app, who.id, email=email)
    for person in (sharer, honest):
        link = make_api(person).post(
            "/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)}
        )
        assert open_link(api, link.get_json()["url"]).status_code == 302
        order_id = bought(app, api, product, address_id)
        ship_and_deliver(make_api(merchant), order_id)
    release(app)
    assert holds(app, sharer) == [("share", 200, "cancelled")]
    assert entries(app, honest) == [("share", 200)]

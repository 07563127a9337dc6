"""Payment credits the creator in the same transaction; a refund scales the commission down."""

from __future__ import annotations

import uuid

from commerce.attribution.models import Commission, LedgerEntry
from commerce.extensions import db
from commerce.orders.models import Order
from tests.commerce.orders.conftest import buy_now
from tests.commerce.payments.conftest import deliver, pay_with, place, start_payment


def test_paying_credits_the_creator_and_refunding_reverses_pro_rata(
    app, buyer_setup, create_video, create_user, make_api, webhook_inbox
):
    api, product, address_id, _buyer, merchant = buyer_setup(
        price_minor=10000, creator_rate_bp=1000
    )
    creator = create_user(creator=True)
    video = create_video(creator, pins=(product.id,))
    api.client.get("/")  # the browser gets its visitor id, as every browser does
    body = buy_now(product.id, address_id, 1, source_kind="video", source_key=video)
    [order] = place(api, body).get_json()["orders"]
    payment = start_payment(api, order["id"]).get_json()
    pay_with(api, payment["pay_url"], "4242424242424242")
    deliver(app)
    with app.app_context():
        stored = db.session.query(Order).one()
        assert stored.state == "paid" and stored.device_id
        assert stored.lines[0].attributed_at is not None
        commission = db.session.query(Commission).filter_by(role="creator").one()
        assert commission.user_id == creator.id and commission.amount_minor == 1000
        entries = db.session.query(LedgerEntry).count()
    refund = make_api(merchant).post(
        f"/api/v1/orders/{order['id']}/refund",
        {"amount_minor": 5000, "reason": "half"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert refund.status_code == 200, refund.get_json()
    with app.app_context():
        assert db.session.query(LedgerEntry).count() > entries  # the reversal was posted


def test_a_video_that_did_not_feature_the_product_earns_its_creator_nothing(
    app, buyer_setup, create_video, create_user, create_product, webhook_inbox
):
    api, product, address_id, _buyer, merchant = buyer_setup(
        price_minor=10000, creator_rate_bp=1000
    )
    creator = create_user(creator=True)
    video = create_video(creator, pins=(create_product(merchant, title="Teapot").id,))
    body = buy_now(product.id, address_id, 1, source_kind="video", source_key=video)
    [order] = place(api, body).get_json()["orders"]
    payment = start_payment(api, order["id"]).get_json()
    pay_with(api, payment["pay_url"], "4242424242424242")
    deliver(app)
    with app.app_context():
        assert db.session.query(Order).one().state == "paid"
        assert db.session.query(Commission).filter_by(role="creator").count() == 0
        assert db.session.query(LedgerEntry).filter_by(payee_id=creator.id).count() == 0

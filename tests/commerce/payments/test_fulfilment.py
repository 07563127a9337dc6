"""After payment: ship, deliver, complete, refunds (full, partial, restock), live updates."""

from __future__ import annotations

import uuid

from commerce.catalog.models import Product
from commerce.extensions import db, socketio
from commerce.orders.models import OrderLine
from commerce.payments.models import RefundRecord, SandboxObject
from tests.commerce.payments.conftest import deliver, pay_with


def paid_order(app, placed, **product_fields):
    p = placed(**product_fields)
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    return p


def refund(api, order_id, amount, *, restock=False, key=None, reason="damaged"):
    return api.post(
        f"/api/v1/orders/{order_id}/refund",
        {"amount_minor": amount, "reason": reason, "restock": restock},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def test_ship_deliver_confirm(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed)
    seller, order_id = make_api(p["merchant"]), p["order"]["id"]
    shipped = seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1234"})
    assert shipped.status_code == 200
    assert shipped.get_json()["state"] == "shipped"
    assert shipped.get_json()["tracking_number"] == "SF1234"
    again = seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1234"})
    assert again.status_code == 409
    assert "cannot become" in again.get_json()["error"]["message"]
    assert seller.post(f"/api/v1/orders/{order_id}/deliver").get_json()["state"] == "delivered"
    done = p["api"].post(f"/api/v1/orders/{order_id}/confirm")
    assert done.get_json()["state"] == "completed"
    history = [e["to_state"] for e in done.get_json()["history"]]
    assert history == ["pending_payment", "paid", "shipped", "delivered", "completed"]


def test_buyer_cannot_ship_and_seller_cannot_confirm_for_the_buyer(
    app, placed, make_api, webhook_inbox
):
    p = paid_order(app, placed)
    order_id = p["order"]["id"]
    assert (
        p["api"].post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1"}).status_code
        == 403
    )
    assert make_api(p["merchant"]).post(f"/api/v1/orders/{order_id}/confirm").status_code == 404


def test_delivered_orders_complete_by_themselves(app, placed, make_api, webhook_inbox):
    from datetime import timedelta

    from commerce.orders.lifecycle import do_auto_complete
    from commerce.timeutil import utcnow

    p = paid_order(app, placed)
    seller, order_id = make_api(p["merchant"]), p["order"]["id"]
    seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1234"})
    seller.post(f"/api/v1/orders/{order_id}/deliver")
    days = app.config["ORDER_AUTO_COMPLETE_DAYS"]
    with app.app_context():
        assert do_auto_complete(db.session, utcnow(), days) == 0
        assert do_auto_complete(db.session, utcnow() + timedelta(days=days + 1), days) == 1
        db.session.commit()
    assert p["api"].get(f"/api/v1/orders/{order_id}").get_json()["state"] == "completed"


def test_partial_then_full_refund_spreads_over_lines(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed, price_minor=1000, stock=10)  # 2 units: 2000 paid
    seller, order_id = make_api(p["merchant"]), p["order"]["id"]
    part = refund(seller, order_id, 500)
    assert part.status_code == 200, part.get_json()
    assert part.get_json()["state"] == "partially_refunded"
    assert part.get_json()["refunded_minor"] == 500
    assert part.get_json()["lines"][0]["refunded_minor"] == 500
    # A partly refunded order keeps being fulfilled.
    shipped = seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF9"})
    assert shipped.get_json()["state"] == "shipped"
    too_much = refund(seller, order_id, 1600)
    assert too_much.status_code == 400
    rest = refund(seller, order_id, 1500)
    assert rest.get_json()["state"] == "refunded" and rest.get_json()["refunded_minor"] == 2000
    with app.app_context():
        assert db.session.get(Product, p["product"].id).stock == 8  # not restocked
        assert [r.state for r in db.session.query(RefundRecord)] == ["succeeded", "succeeded"]
        provider_refunds = db.session.query(SandboxObject).filter_by(kind="refund").all()
        assert sorted(r.amount_minor for r in provider_refunds) == [500, 1500]
    assert refund(seller, order_id, 1).status_code == 409


def test_refund_with_restock_puts_units_back(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed, price_minor=1000, stock=10)
    seller = make_api(p["merchant"])
    response = refund(seller, p["order"]["id"], 2000, restock=True)
    assert response.get_json()["state"] == "refunded"
    with app.app_context():
        assert db.session.get(Product, p["product"].id).stock == 10


def test_refund_is_idempotent(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed, price_minor=1000)
    seller = make_api(p["merchant"])
    first = refund(seller, p["order"]["id"], 300, key="r-1")
    again = refund(seller, p["order"]["id"], 300, key="r-1")
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert refund(seller, p["order"]["id"], 400, key="r-1").status_code == 422
    with app.app_context():
        assert db.session.query(RefundRecord).count() == 1
        assert db.session.query(OrderLine).one().refunded_minor == 300


def test_unpaid_orders_cannot_be_refunded(placed, make_api):
    p = placed()
    response = refund(make_api(p["merchant"]), p["order"]["id"], 100)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"


def test_another_merchant_cannot_refund(app, placed, make_api, create_user, webhook_inbox):
    p = paid_order(app, placed)
    other = make_api(create_user(merchant=True))
    assert refund(other, p["order"]["id"], 100).status_code == 404


def test_buyer_asks_for_a_refund_and_the_seller_sees_it(app, placed, make_api, webhook_inbox):
    p = paid_order(app, placed)
    order_id = p["order"]["id"]
    asked = p["api"].post(f"/api/v1/orders/{order_id}/refund-request", {"reason": "too small"})
    assert asked.get_json()["refund_requested"] is True
    assert p["api"].post(f"/api/v1/orders/{order_id}/refund-request", {}).status_code == 409
    seen = make_api(p["merchant"]).get(f"/api/v1/orders/{order_id}").get_json()
    assert seen["refund_requested"] is True
    assert seen["refund_request"]["state"] == "requested"
    assert seen["refund_request"]["reason"] == "too small"
    assert seen["refund_request"]["requested_at"].endswith("Z")  # with its offset


def test_the_seller_declines_with_a_reason_then_the_buyer_asks_again_and_is_refunded(
    app, placed, make_api, create_user, webhook_inbox
):
    p = paid_order(app, placed, price_minor=1000)
    order_id = p["order"]["id"]
    seller = make_api(p["merchant"])
    decline = f"/api/v1/orders/{order_id}/refund-request/decline"
    assert seller.post(decline, {"reason": "no request"}).status_code == 409  # nothing to answer
    p["api"].post(f"/api/v1/orders/{order_id}/refund-request", {"reason": "wrong colour"})
    assert seller.post(decline, {"reason": ""}).status_code == 400  # the buyer is told why
    assert p["api"].post(decline, {"reason": "mine"}).status_code == 403  # not a seller
    other = make_api(create_user(merchant=True))
    assert other.post(decline, {"reason": "not mine"}).status_code == 404
    declined = seller.post(decline, {"reason": "Opened and used"}).get_json()
    assert declined["refund_requested"] is False
    assert declined["refund_request"]["state"] == "declined"
    assert declined["refund_request"]["decline_reason"] == "Opened and used"
    assert declined["history"][-1]["note"] == "refund declined: Opened and used"
    buyer_view = p["api"].get(f"/api/v1/orders/{order_id}").get_json()
    assert buyer_view["refund_request"]["decline_reason"] == "Opened and used"
    # Declined: the buyer may ask again; the seller's refund then answers it.
    again = p["api"].post(f"/api/v1/orders/{order_id}/refund-request", {"reason": "it is broken"})
    assert again.get_json()["refund_request"]["state"] == "requested"
    assert again.get_json()["refund_request"]["decline_reason"] == ""
    refunded = refund(seller, order_id, 400).get_json()
    assert refunded["state"] == "partially_refunded" and refunded["refund_requested"] is False
    assert refunded["refund_request"]["state"] == "approved"
    assert refunded["refund_request"]["decided_at"] is not None


def test_a_partial_refund_after_shipping_waits_for_delivery_not_shipping(
    app, placed, make_api, webhook_inbox
):
    p = paid_order(app, placed, price_minor=1000)
    seller, order_id = make_api(p["merchant"]), p["order"]["id"]
    assert seller.get(f"/api/v1/orders/{order_id}").get_json()["next_step"] == "ship"
    seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF1"})
    after = refund(seller, order_id, 100).get_json()
    assert (after["state"], after["fulfilment"], after["next_step"]) == (
        "partially_refunded",
        "shipped",
        "deliver",
    )
    page = seller.client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-step="ship"' in page and 'data-step="deliver"' in page
    assert (
        seller.post(f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF2"}).status_code
        == 409
    )
    delivered = seller.post(f"/api/v1/orders/{order_id}/deliver").get_json()
    assert delivered["fulfilment"] == "delivered" and delivered["next_step"] == "confirm"


def test_both_sides_get_live_order_updates(app, placed, make_api, webhook_inbox):
    p = placed()
    buyer_socket = socketio.test_client(app, flask_test_client=p["api"].client)
    seller_api = make_api(p["merchant"])
    seller_socket = socketio.test_client(app, flask_test_client=seller_api.client)
    buyer_socket.get_received()
    seller_socket.get_received()
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    for sock in (buyer_socket, seller_socket):
        events = [e for e in sock.get_received() if e["name"] == "order.updated"]
        assert events and events[-1]["args"][0]["state"] == "paid"
        assert events[-1]["args"][0]["id"] == p["order"]["id"]

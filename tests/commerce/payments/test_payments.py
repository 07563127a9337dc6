"""The sandbox provider end to end: pay page, test cards, signed webhooks, paid orders."""

from __future__ import annotations

import time
import uuid

from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.orders.models import Order, OrderEvent
from commerce.payments.models import Payment, RefundRecord, WebhookEvent
from tests.commerce.payments.conftest import deliver, pay_with, signed_post, start_payment


def state_of(api, order_id):
    return api.get(f"/api/v1/orders/{order_id}").get_json()["state"]


def test_paying_with_4242_makes_the_order_paid_through_the_webhook(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    page = api.client.get(p["pay_url"])
    assert page.status_code == 200 and b"4242" in page.data
    paid = pay_with(api, p["pay_url"], "4242 4242 4242 4242")
    assert paid.status_code == 302
    assert state_of(api, p["order"]["id"]) == "pending_payment"  # only the webhook says so
    assert deliver(app) == 1
    assert webhook_inbox[0]["status"] == 200
    assert webhook_inbox[0]["body"]["type"] == "payment_intent.succeeded"
    order = api.get(f"/api/v1/orders/{p['order']['id']}").get_json()
    assert order["state"] == "paid" and order["paid_at"]
    assert [e["to_state"] for e in order["history"]] == ["pending_payment", "paid"]
    done = api.client.get(p["pay_url"])
    assert b"Payment succeeded" in done.data and p["order"]["url"].encode() in done.data


def test_a_declined_card_leaves_the_order_payable(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    pay_with(api, p["pay_url"], "4000 0000 0000 0002")
    deliver(app)
    assert webhook_inbox[0]["body"]["type"] == "payment_intent.payment_failed"
    assert state_of(api, p["order"]["id"]) == "pending_payment"
    assert b"declined" in api.client.get(p["pay_url"]).data
    pay_with(api, p["pay_url"], "4242424242424242")
    deliver(app)
    assert state_of(api, p["order"]["id"]) == "paid"


def test_the_3220_card_needs_a_second_step(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    pay_with(api, p["pay_url"], "4000000000003220")
    page = api.client.get(p["pay_url"])
    assert b"Complete authentication" in page.data
    deliver(app)
    assert webhook_inbox == [] and state_of(api, p["order"]["id"]) == "pending_payment"
    api.client.post(
        p["pay_url"] + "/authenticate", data={"outcome": "complete", "csrf_token": api.token()}
    )
    deliver(app)
    assert state_of(api, p["order"]["id"]) == "paid"


def test_failing_the_second_step_fails_the_payment(app, placed, webhook_inbox):
    p = placed()
    api = p["api"]
    pay_with(api, p["pay_url"], "4000000000003220")
    api.client.post(
        p["pay_url"] + "/authenticate", data={"outcome": "fail", "csrf_token": api.token()}
    )
    deliver(app)
    assert webhook_inbox[0]["body"]["type"] == "payment_intent.payment_failed"
    assert state_of(api, p["order"]["id"]) == "pending_payment"


def test_other_cards_and_junk_are_refused_on_the_page(placed):
    p = placed()
    for card in ("4111 1111 1111 1111", "12ab"):  # not one of Stripe's test cards; not a number
        response = pay_with(p["api"], p["pay_url"], card)
        assert response.status_code == 400


def test_starting_payment_again_returns_the_same_intent(placed):
    p = placed()
    again = start_payment(p["api"], p["order"]["id"])
    assert again.status_code == 201 and again.get_json()["intent_id"] == p["intent"]


def test_payment_calls_need_a_key_and_only_the_buyer_may_start(placed, make_api, create_user):
    p = placed()
    no_key = p["api"].post(f"/api/v1/orders/{p['order']['id']}/payments", {})
    assert no_key.status_code == 400
    stranger = make_api(create_user())
    assert start_payment(stranger, p["order"]["id"]).status_code == 404


# Webhook security


def event_body(intent_id, event_id=None, event_type="payment_intent.succeeded"):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent", "status": "succeeded"}},
    }


def test_a_bad_signature_is_refused(app, placed, client):
    p = placed()
    body = event_body(p["intent"])
    response = client.post(
        "/api/v1/payments/webhook/sandbox",
        json=body,
        headers={"Sandbox-Signature": f"t={int(time.time())},v1={'0' * 64}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    unsigned = client.post("/api/v1/payments/webhook/sandbox", json=body)
    assert unsigned.status_code == 400
    assert state_of(p["api"], p["order"]["id"]) == "pending_payment"


def test_a_tampered_body_is_refused(app, placed, client):
    import json

    from commerce.payments.provider import sign, webhook_secret

    p = placed()
    raw = json.dumps(event_body(p["intent"])).encode()
    header = sign(webhook_secret(app.config), int(time.time()), raw)
    response = client.post(
        "/api/v1/payments/webhook/sandbox",
        data=raw.replace(b"succeeded", b"succeeded "),
        headers={"Sandbox-Signature": header},
    )
    assert response.status_code == 400


def test_a_stale_timestamp_is_refused(app, placed, client):
    p = placed()
    old = int(time.time()) - app.config["WEBHOOK_TOLERANCE_SECONDS"] - 5
    response = signed_post(app, client, event_body(p["intent"]), at=old)
    assert response.status_code == 400
    assert state_of(p["api"], p["order"]["id"]) == "pending_payment"


def test_a_replayed_event_changes_nothing_the_second_time(app, placed, client):
    p = placed()
    body = event_body(p["intent"], event_id="evt_once")
    first = signed_post(app, client, body)
    assert first.status_code == 200 and first.get_json()["result"] == "paid"
    second = signed_post(app, client, body)
    assert second.status_code == 200 and second.get_json()["duplicate"] is True
    with app.app_context():
        order = db.session.query(Order).one()
        assert order.state == "paid"
        events = db.session.query(OrderEvent).filter_by(order_id=order.id).all()
        assert [e.to_state for e in events] == ["pending_payment", "paid"]
        assert db.session.query(WebhookEvent).count() == 1
        assert db.session.query(RefundRecord).count() == 0


def test_a_failed_delivery_is_retried_later(app, placed, monkeypatch):
    from commerce.payments import webhooks

    p = placed()
    monkeypatch.setattr(webhooks, "transport", lambda url, body, headers: 503)
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    with app.app_context():
        job = db.session.query(Job).filter_by(kind="payments.deliver_webhook").one()
        assert job.state == "queued" and job.attempts == 1 and "503" in job.last_error
        assert job.max_attempts == app.config["PAYMENT_WEBHOOK_ATTEMPTS"]


def test_a_payment_after_the_deadline_is_refunded_automatically(app, placed, webhook_inbox):
    from datetime import timedelta

    from commerce.catalog.models import Product

    p = placed(stock=10)
    with app.app_context():  # the deadline passed before the buyer paid
        order = db.session.query(Order).one()
        order.expires_at = order.created_at - timedelta(seconds=1)
        db.session.commit()
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    assert state_of(p["api"], p["order"]["id"]) == "cancelled"
    with app.app_context():
        assert db.session.get(Product, p["product"].id).stock == 10
        refund = db.session.query(RefundRecord).one()
        assert refund.state == "succeeded" and refund.amount_minor == p["order"]["total_minor"]
        payment = db.session.query(Payment).one()
        assert refund.payment_id == payment.id
    deliver(app)  # the refund's own event is accepted too
    assert webhook_inbox[-1]["body"]["type"] == "refund.succeeded"
    assert webhook_inbox[-1]["status"] == 200


def test_a_payment_for_a_cancelled_order_is_refunded(app, placed, webhook_inbox):
    p = placed()
    assert p["api"].post(f"/api/v1/orders/{p['order']['id']}/cancel").status_code == 200
    pay_with(p["api"], p["pay_url"], "4242424242424242")
    deliver(app)
    assert state_of(p["api"], p["order"]["id"]) == "cancelled"
    with app.app_context():
        assert db.session.query(RefundRecord).count() == 1

"""The paying card's fingerprint (Stripe's card.fingerprint): the sandbox gives one per card
number whoever pays, the app stores it on the succeeded payment, and nobody ever sees it."""

from __future__ import annotations

import json
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from commerce.extensions import db
from commerce.payments.models import Payment, SandboxObject, WebhookEvent
from commerce.payments.sandbox import SUCCEEDING_CARDS, CardError, card_fingerprint
from tests.commerce.payments.conftest import deliver, pay_with

VISA, MASTERCARD, UNIONPAY = "4242424242424242", "5555555555554444", "6200000000000005"
BEFORE = "3a4e06dd910e"


def _payment(app, intent_id: str) -> tuple[str, str | None]:
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.provider_ref == intent_id))
        assert payment is not None
        return payment.state, payment.instrument_fingerprint


def _paid(app, placed, card: str) -> dict:
    p = placed()
    paid = pay_with(p["api"], p["pay_url"], card)
    assert paid.status_code == 302, paid.get_data(as_text=True)
    deliver(app)
    assert p["api"].get(f"/api/v1/orders/{p['order']['id']}").get_json()["state"] == "paid"
    return p


def test_the_same_card_gives_the_same_fingerprint_to_two_buyers(app, placed, webhook_inbox):
    ann = _paid(app, placed, VISA)
    bo = _paid(app, placed, "4242 4242-4242 4242")  # written another way: the same card
    cy = _paid(app, placed, MASTERCARD)
    assert ann["buyer"].id != bo["buyer"].id
    states = {
        name: _payment(app, p["intent"]) for name, p in (("ann", ann), ("bo", bo), ("cy", cy))
    }
    assert {state for state, _f in states.values()} == {"succeeded"}
    fingerprints = {name: fingerprint for name, (_s, fingerprint) in states.items()}
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprints["ann"] or "")
    assert fingerprints["ann"] == fingerprints["bo"]
    assert fingerprints["cy"] != fingerprints["ann"] and fingerprints["cy"]
    # It reached the app through the signed webhook, as Stripe's charge carries it.
    card = webhook_inbox[0]["body"]["data"]["object"]["payment_method_details"]["card"]
    assert card == {"last4": "4242", "fingerprint": fingerprints["ann"]}


def test_every_succeeding_test_card_pays_and_each_is_a_card_of_its_own(app, placed, webhook_inbox):
    seen = set()
    for card in SUCCEEDING_CARDS:
        p = _paid(app, placed, card)
        state, fingerprint = _payment(app, p["intent"])
        assert state == "succeeded" and fingerprint
        seen.add(fingerprint)
    assert len(seen) == len(SUCCEEDING_CARDS) >= 14


def test_a_declined_card_leaves_no_fingerprint_the_next_card_does(app, placed, webhook_inbox):
    p = placed()
    pay_with(p["api"], p["pay_url"], "4000000000000002")
    deliver(app)
    assert _payment(app, p["intent"]) == ("requires_payment", None)  # the failure is not a card
    pay_with(p["api"], p["pay_url"], UNIONPAY)
    deliver(app)
    other = _paid(app, placed, UNIONPAY)
    assert _payment(app, p["intent"]) == _payment(app, other["intent"])
    assert _payment(app, p["intent"])[1] is not None


def test_the_second_step_card_is_fingerprinted_when_it_succeeds(app, placed, webhook_inbox):
    p = placed()
    pay_with(p["api"], p["pay_url"], "4000000000003220")
    p["api"].client.post(
        p["pay_url"] + "/authenticate", data={"outcome": "complete", "csrf_token": p["api"].token()}
    )
    deliver(app)
    state, fingerprint = _payment(app, p["intent"])
    assert state == "succeeded" and fingerprint
    assert fingerprint != _payment(app, _paid(app, placed, VISA)["intent"])[1]


def test_the_number_is_never_stored_and_the_fingerprint_never_shown(
    app, placed, webhook_inbox, make_api
):
    p = _paid(app, placed, MASTERCARD)
    api, order_id, seller = p["api"], p["order"]["id"], make_api(p["merchant"])
    _state, fingerprint = _payment(app, p["intent"])
    assert fingerprint
    with app.app_context():
        rows = [o.data for o in db.session.scalars(select(SandboxObject))]
        rows += [e.payload for e in db.session.scalars(select(WebhookEvent))]
        stored = json.dumps(rows) + repr(db.session.scalars(select(Payment)).all())
    assert MASTERCARD not in stored and "5555 5555 5555 4444" not in stored

    responses = [
        api.get(f"/api/v1/orders/{order_id}"),
        api.get("/api/v1/orders"),
        api.client.get(f"/orders/{order_id}"),
        api.client.get("/orders"),
        api.client.get(p["pay_url"]),
        api.client.get("/api/openapi.json"),
        seller.get(f"/api/v1/orders/{order_id}"),
        seller.get("/api/v1/orders?role=merchant"),
        seller.client.get("/merchant/orders"),
        seller.client.get(f"/orders/{order_id}"),
    ]
    assert [r.status_code for r in responses] == [200] * len(responses)
    seen = [r.get_data(as_text=True) for r in responses]
    assert order_id in seen[0] and order_id in seen[-3]  # the pages did show the order
    assert all(fingerprint not in text for text in seen)
    assert all("instrument_fingerprint" not in text for text in seen)


def test_the_fingerprint_is_keyed():
    """Without the install's key the fingerprint of a (guessable) test number is not guessable."""
    first, second = card_fingerprint(b"key-one", VISA), card_fingerprint(b"key-two", VISA)
    assert first != second and len(first) == 32
    assert card_fingerprint(b"key-one", "4242 4242 4242 4242") == first
    with pytest.raises(CardError):
        card_fingerprint(b"key-one", "4242")


def test_the_pay_page_lists_the_other_cards_in_both_languages(app, placed):
    p = placed()
    api = p["api"]
    english = api.client.get(p["pay_url"]).get_data(as_text=True)
    assert "5555 5555 5555 4444" in english and "6200 0000 0000 0005" in english
    assert "Visa · debit card" in english and "UnionPay · credit card" in english
    api.client.set_cookie("lang", "zh_Hans", domain="localhost")
    chinese = api.client.get(p["pay_url"]).get_data(as_text=True)
    assert "银联 · 信用卡" in chinese and "Visa · 借记卡" in chinese
    assert "These succeed too" not in chinese


def test_an_unknown_card_is_refused_with_a_message(app, placed):
    p = placed()
    refused = pay_with(p["api"], p["pay_url"], "4111111111111111")
    assert refused.status_code == 400
    assert "only its test cards" in refused.get_data(as_text=True)
    assert _payment(app, p["intent"]) == ("requires_payment", None)


def test_the_column_matches_its_model_and_its_migration_goes_both_ways(app, placed, webhook_inbox):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, db.metadata) if "payments" in repr(d)]
    assert diffs == []
    p = _paid(app, placed, VISA)
    with app.app_context():
        db.session.remove()
        downgrade(revision=BEFORE)
        columns = [c["name"] for c in inspect(db.engine).get_columns("payments")]
        assert "instrument_fingerprint" not in columns and "state" in columns
        upgrade()
        payment = db.session.scalar(select(Payment).where(Payment.provider_ref == p["intent"]))
        assert payment is not None and payment.state == "succeeded"
        assert payment.instrument_fingerprint is None  # paid before: no card known
        db.session.remove()

"""Payouts: requested against the ledger, sent by a job, settled by the provider's webhook."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from commerce.attribution import payouts
from commerce.attribution.crediting import do_reverse_for_refund
from commerce.attribution.models import LedgerEntry, Payout
from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.orders.models import Order
from commerce.payments.models import SandboxObject
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import balance, set_user
from tests.commerce.payments.conftest import deliver, signed_post

CLOSED = "sam.smith+payout_closed@gmail.com"  # a failing test account (sandbox.FAILING_ACCOUNTS)


def request(client, amount: int = 1500, key: str = "k-000004"):
    return client.post("/api/v1/me/payouts", {"amount_minor": amount, "idempotency_key": key})


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def entries_match_balances(app, user_id: int) -> None:
    """The balances shown are the sums of the payee's entries, whatever happened."""
    with app.app_context():
        rows = db.session.execute(
            select(LedgerEntry.bucket, func.sum(LedgerEntry.amount_minor))
            .where(LedgerEntry.payee_id == user_id)
            .group_by(LedgerEntry.bucket)
        ).all()
    shown = balance(app, user_id)
    assert {bucket: shown[bucket] for bucket, _ in rows} == {b: int(t) for b, t in rows}


def payout_event(payout: dict, kind: str, event_id: str, **extra) -> dict:
    """A payout event as the sandbox signs it (for replays and out-of-order reports)."""
    obj = {
        "id": payout["provider_ref"],
        "object": "payout",
        "amount": payout["amount_minor"],
        "currency": payout["currency"],
        "status": kind,
        "reference": f"payout-{payout['id']}",
        **extra,
    }
    return {
        "id": event_id,
        "type": f"payout.{kind}",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def test_payout_rules(app, world, earned, make_api):
    client = make_api(world["sharer"])
    below = request(client, 999, "k-000001")
    assert below.status_code == 400 and below.get_json()["error"]["code"] == "below_minimum"
    above = request(client, 2001, "k-000002")
    assert above.status_code == 400 and above.get_json()["error"]["code"] == "above_available"
    assert request(client, 0, "k-000003").status_code == 400
    assert count(app, Payout) == 0 and count(app, Job) == 0


def test_a_request_is_paid_by_the_provider_through_its_webhook(
    app, world, earned, make_api, webhook_inbox
):
    client = make_api(world["sharer"])
    first = request(client)
    out = first.get_json()
    assert first.status_code == 201
    assert (out["state"], out["provider_ref"], out["paid_at"]) == ("requested", None, None)
    # The ledger moved at once; nothing reached the provider inside the request.
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 500,
        "paid": 1500,
        "cancelled": 0,
    }
    assert count(app, SandboxObject, SandboxObject.kind == "payout") == 0
    assert count(app, Job, Job.kind == payouts.SEND_JOB) == 1
    assert deliver(app) == 2  # the send job, then the sandbox's webhook delivery
    assert [(d["body"]["type"], d["status"]) for d in webhook_inbox] == [("payout.paid", 200)]
    paid = client.get(f"/api/v1/me/payouts/{out['id']}").get_json()
    assert paid["state"] == "paid" and paid["paid_at"] and paid["state_label"] == "Paid"
    assert paid["provider_ref"].startswith("po_") and paid["failure_reason"] is None
    with app.app_context():
        sent = db.session.scalar(select(SandboxObject).where(SandboxObject.kind == "payout"))
        assert (sent.amount_minor, sent.idempotency_key) == (1500, f"payout-{out['id']}")
        assert sent.data["account"] == "sam.smith@gmail.com"
    assert balance(app, world["sharer"].id)["paid"] == 1500
    entries_match_balances(app, world["sharer"].id)


def test_the_same_key_is_the_same_payout_and_sends_once(
    app, world, earned, make_api, webhook_inbox
):
    client = make_api(world["sharer"])
    first = request(client).get_json()
    again = request(client)
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    assert count(app, Payout) == 1 and count(app, Job, Job.kind == payouts.SEND_JOB) == 1
    assert count(app, LedgerEntry, LedgerEntry.kind == "payout") == 2
    clash = request(client, 1000)
    assert clash.status_code == 409
    deliver(app)
    after = request(client)  # a retry after it was paid still answers with the same payout
    assert after.get_json()["id"] == first["id"] and after.get_json()["state"] == "paid"
    assert count(app, Job, Job.kind == payouts.SEND_JOB) == 1
    assert count(app, SandboxObject, SandboxObject.kind == "payout") == 1


def test_a_failed_payout_gives_the_money_back(app, world, earned, make_api, webhook_inbox):
    client = make_api(world["sharer"])
    set_user(app, world["sharer"].id, email=CLOSED)
    out = request(client).get_json()
    deliver(app)
    assert [d["body"]["type"] for d in webhook_inbox] == ["payout.failed"]
    failed = client.get(f"/api/v1/me/payouts/{out['id']}").get_json()
    assert (failed["state"], failed["failure_code"]) == ("failed", "account_closed")
    assert failed["failed_at"] and failed["paid_at"] is None
    assert failed["failure_reason"] == "The receiving account is closed."
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 2000,
        "paid": 0,
        "cancelled": 0,
    }
    with app.app_context():  # appended, never edited: the request's pair is still there
        rows = db.session.execute(
            select(
                LedgerEntry.kind, LedgerEntry.bucket, LedgerEntry.amount_minor, LedgerEntry.reason
            )
            .where(LedgerEntry.payout_id == out["id"])
            .order_by(LedgerEntry.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("payout", "available", -1500, None),
        ("payout", "paid", 1500, None),
        ("payout_failed", "paid", -1500, "account_closed"),
        ("payout_failed", "available", 1500, "account_closed"),
    ]
    entries_match_balances(app, world["sharer"].id)
    # The money can be requested again (to a working account): a new payout.
    set_user(app, world["sharer"].id, email="sam.smith@gmail.com")
    second = request(client, 2000, "k-again-01").get_json()
    assert second["id"] != out["id"] and second["state"] == "requested"
    deliver(app)
    assert client.get(f"/api/v1/me/payouts/{second['id']}").get_json()["state"] == "paid"
    assert balance(app, world["sharer"].id)["paid"] == 2000
    entries_match_balances(app, world["sharer"].id)


def test_a_replayed_or_repeated_webhook_changes_nothing(
    app, world, earned, make_api, webhook_inbox, client
):
    api = make_api(world["sharer"])
    set_user(app, world["sharer"].id, email=CLOSED)
    out = request(api).get_json()
    deliver(app)
    payout = api.get(f"/api/v1/me/payouts/{out['id']}").get_json()
    entries = count(app, LedgerEntry)
    replay = signed_post(app, client, webhook_inbox[0]["body"])  # the same event id
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    again = signed_post(app, client, payout_event(payout, "failed", "evt_new_id"))
    assert again.status_code == 200 and again.get_json()["result"] == "payout unchanged"
    assert count(app, LedgerEntry) == entries
    assert balance(app, world["sharer"].id)["available"] == 2000
    # Failed is final: a later "paid" is an illegal move, refused and not recorded.
    late = signed_post(app, client, payout_event(payout, "paid", "evt_late_paid"))
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "illegal_payout_transition"
    assert api.get(f"/api/v1/me/payouts/{out['id']}").get_json()["state"] == "failed"
    assert count(app, LedgerEntry) == entries


def test_a_paid_payout_the_bank_returns_later_fails_once(
    app, world, earned, make_api, webhook_inbox, client
):
    api = make_api(world["sharer"])
    out = request(api).get_json()
    deliver(app)
    payout = api.get(f"/api/v1/me/payouts/{out['id']}").get_json()
    event = payout_event(payout, "failed", "evt_returned", last_error="account_closed")
    assert signed_post(app, client, event).get_json()["result"] == "payout failed"
    after = api.get(f"/api/v1/me/payouts/{out['id']}").get_json()
    assert after["state"] == "failed" and after["paid_at"] and after["failed_at"]
    assert balance(app, world["sharer"].id)["available"] == 2000
    assert signed_post(app, client, event).get_json()["duplicate"] is True
    assert balance(app, world["sharer"].id)["available"] == 2000
    entries_match_balances(app, world["sharer"].id)


def test_a_retried_send_job_never_pays_twice(app, world, earned, make_api, webhook_inbox):
    out = request(make_api(world["sharer"])).get_json()
    with app.app_context():
        # A first run reached the provider but its answer was lost (the app stored nothing),
        # and the job was queued twice: every run sends the same key.
        job = db.session.scalar(select(Job).where(Job.kind == payouts.SEND_JOB))
        provider = app.extensions["payments"]
        url = job.payload["webhook_url"]
        payouts.do_send_payout(db.session, provider, out["id"], webhook_url=url)
        db.session.get(Payout, out["id"]).provider_ref = None
        db.session.add(Job(kind=job.kind, payload=job.payload, max_attempts=job.max_attempts))
        db.session.commit()
    deliver(app)
    with app.app_context():
        sent = db.session.scalars(select(SandboxObject).where(SandboxObject.kind == "payout")).all()
        assert len(sent) == 1
        payout = db.session.get(Payout, out["id"])
        assert (payout.provider_ref, payout.state) == (sent[0].id, "paid")
        assert db.session.scalars(select(Job.state).where(Job.kind == payouts.SEND_JOB)).all() == [
            "done",
            "done",
        ]
    assert [d["body"]["type"] for d in webhook_inbox] == ["payout.paid"]
    assert balance(app, world["sharer"].id)["paid"] == 1500


def test_a_webhook_for_a_payout_we_do_not_know_is_acknowledged(app, client):
    body = payout_event(
        {"id": 999, "provider_ref": "po_x", "amount_minor": 1, "currency": "CNY"}, "paid", "evt_u"
    )
    response = signed_post(app, client, body)
    assert response.status_code == 200 and response.get_json()["result"] == "unknown payout"


def test_nobody_sees_or_requests_another_payees_payout(
    app, world, earned, make_api, create_user, webhook_inbox
):
    owner = make_api(world["sharer"])
    out = request(owner).get_json()
    other = make_api(create_user(name="Mallory"))
    assert other.get(f"/api/v1/me/payouts/{out['id']}").status_code == 404
    assert other.get("/api/v1/me/payouts/424242").status_code == 404
    assert other.get("/api/v1/me/payouts").get_json() == {"items": []}
    # Another payee's key is only a key: it never returns or touches the owner's payout.
    stolen = request(other)
    assert stolen.status_code == 400 and stolen.get_json()["error"]["code"] == "above_available"
    page = other.client.get("/earnings").get_data(as_text=True)
    assert f'data-payout-id="{out["id"]}"' not in page
    anonymous = make_api()
    assert anonymous.get(f"/api/v1/me/payouts/{out['id']}").status_code == 401
    assert anonymous.get("/api/v1/me/payouts").status_code == 401
    assert request(anonymous).status_code == 401
    assert [p["id"] for p in owner.get("/api/v1/me/payouts").get_json()["items"]] == [out["id"]]
    assert count(app, Payout) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": "lots", "idempotency_key": "k-000009"},
        {"amount_minor": 1500, "idempotency_key": "short"},
        {"amount_minor": 1500, "idempotency_key": "k-000009", "currency": "YUAN"},
        {"amount_minor": 10**13, "idempotency_key": "k-000009"},
        ["not", "an", "object"],
    ],
)
def test_bad_payout_requests_are_400s(world, earned, make_api, body):
    response = make_api(world["sharer"]).post("/api/v1/me/payouts", body)
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_no_payout_while_the_balance_is_negative(app, world, earned, make_api):
    client = make_api(world["sharer"])
    assert request(client, 2000, "k-all-0001").status_code == 201
    with app.app_context():  # both orders refunded after the payout: the money is owed back
        for public_id in earned:
            order = db.session.scalar(select(Order).where(Order.public_id == public_id))
            order.refunded_minor = order.total_minor
            order.lines[0].refunded_minor = order.lines[0].amount_minor
            do_reverse_for_refund(db.session, order, utcnow())
        db.session.commit()
    assert balance(app, world["sharer"].id)["available"] == -2000
    refused = request(client, 1000, "k-neg-0001")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "negative_balance"


def test_the_earnings_page_shows_each_payout_state(app, world, earned, make_api, webhook_inbox):
    browser = make_api(world["sharer"])
    page = browser.client.get("/earnings").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    form = {"csrf_token": token, "idempotency_key": key, "currency": "CNY", "amount": "10.00"}
    done = browser.client.post("/earnings/payouts", data=form, follow_redirects=True)
    assert "requested: it shows as paid when the payment provider confirms" in done.get_data(
        as_text=True
    )
    assert browser.client.post("/earnings/payouts", data=form).status_code == 302  # a resubmit
    assert balance(app, world["sharer"].id)["paid"] == 1000
    assert 'data-state="requested"' in browser.client.get("/earnings").get_data(as_text=True)
    form["amount"] = "abc"
    response = browser.client.post("/earnings/payouts", data=form, follow_redirects=True)
    assert "Enter an amount like 12.30." in response.get_data(as_text=True)
    assert balance(app, world["sharer"].id)["paid"] == 1000
    deliver(app)
    assert 'data-state="paid"' in browser.client.get("/earnings").get_data(as_text=True)
    set_user(app, world["sharer"].id, email=CLOSED)
    form.update(amount="10.00", idempotency_key="k-closed-01")
    browser.client.post("/earnings/payouts", data=form)
    deliver(app)
    page = browser.client.get("/earnings").get_data(as_text=True)
    assert 'data-state="failed"' in page and "The receiving account is closed." in page
    assert balance(app, world["sharer"].id) == {
        "pending": 0,
        "available": 1000,
        "paid": 1000,
        "cancelled": 0,
    }

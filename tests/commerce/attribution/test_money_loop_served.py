"""The money loop in the running app: share, buy, pay, deliver, release by the app's own scheduler,
payout; and the release runs once per turn however many worker processes a deployment has."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import requests
from sqlalchemy import select

from commerce.attribution import projection
from commerce.extensions import db
from commerce.jobs.models import PeriodicTask
from commerce.orders.models import Order
from commerce.payments.provider import SIGNATURE_HEADER, sign, webhook_secret
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import balance
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

RELEASE = "commerce.attribution.jobs.release_due_commissions"
# A person who tapped a link: what Chromium sends with a user-activated top-level navigation.
TAPPED = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
}


class Browser:
    """A person's browser on the served app: cookies, and the CSRF header its scripts send."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def token(self) -> str:
        return self.http.get(f"{self.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]

    def call(
        self, method: str, path: str, body: object = None, **headers: str
    ) -> requests.Response:
        headers = {"X-CSRFToken": self.token(), **headers}
        return self.http.request(method, self.url + path, json=body, headers=headers, timeout=20)

    def log_in(self, email: str) -> Browser:
        response = self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return self


def release_task(app) -> PeriodicTask | None:
    with app.app_context():
        task = db.session.get(PeriodicTask, RELEASE)
        if task is not None:
            db.session.expunge(task)
        return task


def test_a_sharer_is_paid_through_the_running_app(
    app,
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=10_000, stock=5, sharer_rate_bp=1000)
    sharer, buyer = create_user(name="Sam"), create_user(name="Bea")
    address_id = create_address(buyer)
    # `flask serve` as `make run` starts it: jobs and the scheduler in the web process.
    url = processes.serve(COMMISSION_HOLD_DAYS="0", COMMISSION_RELEASE_EVERY_SECONDS="1")

    sam = Browser(url).log_in(sharer.email)
    share = sam.call(
        "POST", "/api/v1/shares", {"target_kind": "product", "target_key": str(product.id)}
    )
    assert share.status_code == 201, share.text
    bea = Browser(url)
    landed = bea.http.get(share.json()["url"].replace("http://localhost", url), headers=TAPPED)
    assert landed.status_code == 200
    bea.log_in(buyer.email)
    placed = bea.call(
        "POST",
        "/api/v1/orders",
        {"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id},
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orders"][0]["id"]
    payment = bea.call(
        "POST", f"/api/v1/orders/{order_id}/payments", {}, **{"Idempotency-Key": uuid.uuid4().hex}
    )
    pay_url = url + payment.json()["pay_url"]
    page = bea.http.get(pay_url, timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    bea.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    # The sandbox's webhook reaches the served app over HTTP, sent by its in-process worker.
    wait_for(lambda: bea.call("GET", f"/api/v1/orders/{order_id}").json()["state"] == "paid")
    assert balance(app, sharer.id)["pending"] == 1000
    # The provider reports the same payment again under a new event id: nothing changes.
    event = {
        "id": "evt_redelivered",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": payment.json()["intent_id"], "object": "payment_intent"}},
    }
    raw = json.dumps(event).encode()
    again = requests.post(
        f"{url}/api/v1/payments/webhook/sandbox",
        data=raw,
        headers={
            SIGNATURE_HEADER: sign(webhook_secret(app.config), int(time.time()), raw),
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert again.status_code == 200 and again.json()["result"] == "already applied"
    assert bea.call("GET", f"/api/v1/orders/{order_id}").json()["refunded_minor"] == 0
    assert balance(app, sharer.id)["pending"] == 1000

    seller = Browser(url).log_in(merchant.email)
    shipped = seller.call("POST", f"/api/v1/orders/{order_id}/ship", {"tracking_number": "SF123"})
    assert shipped.status_code == 200, shipped.text
    assert seller.call("POST", f"/api/v1/orders/{order_id}/deliver").status_code == 200

    def available() -> int:
        earnings = sam.call("GET", "/api/v1/me/earnings").json()
        return earnings["balances"].get("CNY", {}).get("available", 0)

    assert wait_for(available) == 1000  # released by nothing but the app's own scheduler
    task = release_task(app)
    assert task is not None and task.runs >= 1 and task.last_error is None

    asked = sam.call(
        "POST", "/api/v1/me/payouts", {"amount_minor": 1000, "idempotency_key": "k-served-1"}
    )
    assert asked.status_code == 201, asked.text
    payout_id = asked.json()["id"]

    def paid() -> dict | None:
        payout = sam.call("GET", f"/api/v1/me/payouts/{payout_id}").json()
        return payout if payout["state"] == "paid" else None

    assert wait_for(paid)["provider_ref"].startswith("po_")
    assert balance(app, sharer.id) == {"pending": 0, "available": 0, "paid": 1000, "cancelled": 0}
    # The served app's dashboard shows the commission paid, from the projection it kept.
    credits = sam.call("GET", "/api/v1/me/earnings").json()["commissions"]
    assert [c["status"]["state"] for c in credits] == ["paid"]
    with app.app_context(), db.engine.connect() as conn:
        assert projection.verify(conn) == []
    # Each step reached its person's inbox: the buyer's order steps, the sharer's money.
    told = sam.call("GET", "/api/v1/me/notifications").json()["items"]
    assert [n["type"] for n in told] == ["payout", "commission"]
    assert all("¥10.00" in n["text"] for n in told), told
    steps = bea.call("GET", "/api/v1/me/notifications").json()["items"]
    assert [n["type"] for n in steps] == ["order", "order", "order"]
    assert steps[0]["text"] != steps[-1]["text"]  # delivered, shipped, paid


def test_two_workers_release_once_per_turn(app, world, add_click, paid_order, processes):
    add_click(world["share"], visitor="dev", user_id=world["buyer"].id)
    public_id = paid_order(world["buyer"], world["product"], video=world["video"])
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.public_id == public_id))
        order.state, order.delivered_at = "delivered", utcnow() - timedelta(days=8)
        db.session.commit()
    assert balance(app, world["sharer"].id)["pending"] == 1000
    every = 2
    # The scale-out set-up: `flask worker` processes (README), here two of them.
    started = time.monotonic()
    for _ in range(2):
        processes.worker(COMMISSION_RELEASE_EVERY_SECONDS=str(every))
    wait_for(lambda: balance(app, world["sharer"].id)["available"] == 1000, timeout=30)
    time.sleep(3 * every)
    task = release_task(app)
    elapsed = time.monotonic() - started
    assert task is not None and task.last_error is None, processes.logs()
    # One run per turn for the whole deployment: at most one per interval since the first
    # (two workers each running it would make about twice as many).
    assert 2 <= task.runs <= elapsed / every + 1, (task.runs, elapsed, processes.logs())

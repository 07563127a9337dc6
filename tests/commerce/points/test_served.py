"""Points in the running app (`flask serve` as `make run` starts it, with its own jobs and
scheduler): a buyer spends points at checkout, pays through the sandbox, the seller ships and
delivers, and the app's own periodic task makes the purchase points usable after the (short)
hold, and tells her so."""

from __future__ import annotations

import re
import uuid

from commerce.extensions import db
from commerce.jobs.models import PeriodicTask
from tests.commerce.attribution.test_money_loop_served import Browser
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)

RELEASE = "commerce.points.jobs.release_held_points"


def test_the_running_app_credits_held_points_after_the_hold(
    app,
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
    grant,
):
    merchant = create_user(merchant=True, name="Tea House")
    product = create_product(merchant, price_minor=10_000, stock=5)
    buyer = create_user(name="Bea")
    address_id = create_address(buyer)
    grant(buyer, 2_000)
    url = processes.serve(POINTS_HOLD_DAYS="0", POINTS_RELEASE_EVERY_SECONDS="1")

    bea = Browser(url).log_in(buyer.email)
    checked = bea.call("POST", "/api/v1/points/check-in")
    assert checked.status_code == 201 and checked.json()["balance"] == 2_010
    placed = bea.call(
        "POST",
        "/api/v1/orders",
        {
            "items": [{"product_id": product.id, "quantity": 1}],
            "address_id": address_id,
            "points_to_use": 2_000,
        },
        **{"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    assert (order["total_minor"], order["points_used"]) == (8_000, 2_000)
    payment = bea.call(
        "POST", f"/api/v1/orders/{order['id']}/payments", {}, **{"Idempotency-Key": "p1"}
    )
    assert payment.json()["amount_minor"] == 8_000
    pay_url = url + payment.json()["pay_url"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', bea.http.get(pay_url).text).group(1)
    bea.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    wait_for(lambda: bea.call("GET", f"/api/v1/orders/{order['id']}").json()["state"] == "paid")
    assert bea.call("GET", "/api/v1/points").json()["pending"] == 80  # ¥80 paid -> 80 points

    seller = Browser(url).log_in(merchant.email)
    assert (
        seller.call(
            "POST", f"/api/v1/orders/{order['id']}/ship", {"tracking_number": "SF123"}
        ).status_code
        == 200
    )
    assert seller.call("POST", f"/api/v1/orders/{order['id']}/deliver").status_code == 200

    def usable() -> int:
        points = bea.call("GET", "/api/v1/points").json()
        return points["balance"] if points["pending"] == 0 else 0

    assert wait_for(usable) == 90  # 10 left + 80 credited by nothing but the app's scheduler
    kinds = [e["kind"] for e in bea.call("GET", "/api/v1/points/entries").json()["items"]]
    assert kinds == ["purchase", "spend", "checkin", "grant"]
    # The same run told her, once: the inbox links to My points.
    notices = bea.call("GET", "/api/v1/me/notifications").json()["items"]
    ready = [(n["text"], n["url"]) for n in notices if n["type"] == "points"]
    assert ready == [("80 points are ready to use.", "/me/points")]
    with app.app_context():
        task = db.session.get(PeriodicTask, RELEASE)
        assert task is not None and task.runs >= 1 and task.last_error is None


def test_the_running_app_expires_points_past_their_date(app, processes, create_user, grant):
    """Only the app's own hourly task (every second here) writes the expiry into the ledger;
    reads already leave such points out, so the stored entry is what proves the task ran."""
    from datetime import timedelta

    from commerce.timeutil import utcnow

    buyer = create_user(name="Cai")
    grant(buyer, 300, expires_at=utcnow() - timedelta(minutes=1))
    grant(buyer, 50)  # undated: stays
    url = processes.serve(POINTS_EXPIRE_EVERY_SECONDS="1")
    cai = Browser(url).log_in(buyer.email)

    def expired() -> bool:
        items = cai.call("GET", "/api/v1/points/entries").json()["items"]
        return (items[0]["kind"], items[0]["amount"]) == ("expire", -300)

    assert wait_for(expired)
    assert cai.call("GET", "/api/v1/points").json()["balance"] == 50
    with app.app_context():
        task = db.session.get(PeriodicTask, "commerce.points.jobs.expire_points")
        assert task is not None and task.runs >= 1 and task.last_error is None

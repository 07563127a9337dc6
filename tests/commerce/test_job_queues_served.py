"""In the running app, a payment is confirmed while transcodes run: the embedded default
(`flask serve` with its own workers) and the scale-out set-up (one worker process per queue)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.payments.webhooks import DELIVER_JOB
from tests.commerce.attribution.test_money_loop_served import Browser
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import upload_video


def jobs_of(app, kind: str) -> list[Job]:
    with app.app_context():
        rows = list(db.session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def open_payment(url: str, buyer, product, address_id: int) -> tuple[Browser, str, str, str]:
    """A buyer orders and opens the sandbox pay page: (browser, order id, pay url, csrf)."""
    bea = Browser(url).log_in(buyer.email)
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
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', bea.http.get(pay_url).text).group(1)
    return bea, order_id, pay_url, csrf


def pay(url: str, buyer, product, address_id: int) -> str:
    """A buyer orders and pays with the sandbox card on the served app; returns the order id."""
    bea, order_id, pay_url, csrf = open_payment(url, buyer, product, address_id)
    confirm(bea, order_id, pay_url, csrf)
    return order_id


def confirm(bea: Browser, order_id: str, pay_url: str, csrf: str) -> None:
    """The card is submitted; returns once the webhook's job has marked the order paid."""
    bea.http.post(pay_url, data={"card_number": "4242424242424242", "csrf_token": csrf})
    wait_for(
        lambda: bea.call("GET", f"/api/v1/orders/{order_id}").json()["state"] == "paid",
        timeout=60,
        what="the order to be paid",
    )


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory):
    """A clip whose transcode outlasts a payment even on a loaded CI host (the 3 s clip did not)."""
    from media.samples import generate_clip

    path = tmp_path_factory.mktemp("long") / "long.mp4"
    generate_clip(path, duration_s=20, width=640, height=360)
    return path


@pytest.mark.parametrize("setup", ["embedded", "scale-out"])
def test_a_payment_is_confirmed_while_two_transcodes_run(
    app,
    processes,
    create_user,
    create_product,
    make_api,
    long_clip,
    setup,
    create_address,  # noqa: F811
):
    creator = make_api(create_user(creator=True))
    for _ in range(2):
        assert upload_video(creator, long_clip).status_code == 201
    merchant, buyer = create_user(merchant=True), create_user(name="Bea")
    product = create_product(merchant, price_minor=1_000, stock=5)
    address_id = create_address(buyer)
    if setup == "embedded":  # `make run`: the jobs run in the web process
        url = processes.serve()
    else:  # the README's scale-out: web without jobs, a worker per queue group
        url = processes.serve(JOBS_MODE="worker")
        processes.worker("--queues", "payments,default")
        processes.worker("--queues", "media")
        processes.worker("--queues", "media")

    # Everything before the card is submitted happens first, so that only the payment itself
    # (card, webhook, its job) runs while both transcodes do.
    bea, order_id, pay_url, csrf = open_payment(url, buyer, product, address_id)

    def both_running() -> bool:
        return [job.state for job in jobs_of(app, "video.transcode")] == ["running", "running"]

    wait_for(both_running, timeout=60, what="both transcodes to start")
    confirm(bea, order_id, pay_url, csrf)
    # The job's handler commits the paid order, then the runner records the job done in its own
    # transaction: the order can read paid a moment before its job reads done.
    [delivery] = wait_for(
        lambda: [job for job in jobs_of(app, DELIVER_JOB) if job.state == "done"],
        timeout=10,
        what="the webhook's job to be recorded done",
    )
    transcodes = jobs_of(app, "video.transcode")
    # The payment's webhook did not wait for either transcode: it is done while they still run.
    assert delivery.queue == "payments"
    assert [job.state for job in transcodes] == ["running", "running"], processes.logs()
    assert all(job.finished_at is None for job in transcodes)

"""JOBS_BACKEND=procrastinate in the running app (PostgreSQL only): `flask serve` and `flask
worker` processes. A payment made over HTTP is confirmed by the payments job a Procrastinate
worker runs, and /admin/jobs lists it; periodic tasks run once per turn with 2 workers. SIGTERM
lets a worker finish its transcode, a second signal hands it back; a transcode whose worker is
killed -9 runs again elsewhere.
"""

from __future__ import annotations

import re
import signal
import time

from sqlalchemy import text

from commerce.extensions import db
from commerce.jobs.models import PeriodicTask
from commerce.payments.webhooks import DELIVER_JOB
from tests.commerce.attribution.conftest import set_user
from tests.commerce.attribution.test_money_loop_served import Browser
from tests.commerce.live.ingest_support import wait_for
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.commerce.test_job_queues_served import pay
from tests.commerce.test_jobs_procrastinate import papp  # noqa: F401  (fixture)
from tests.conftest import ApiClient, upload_video

PROCRASTINATE = {"JOBS_BACKEND": "procrastinate", "JOBS_POLL_SECONDS": "0.2"}


def jobs(app, task_name: str) -> list[dict]:
    with app.app_context():
        result = db.session.execute(
            text(
                "SELECT j.id, j.status::text AS status, j.attempts, j.queue_name, x.error"
                " FROM procrastinate_jobs j LEFT JOIN job_errors x ON x.job_id = j.id"
                " WHERE j.task_name = :name ORDER BY j.id"
            ),
            {"name": task_name},
        )
        return [dict(row._mapping) for row in result]


def test_a_payment_is_confirmed_by_a_procrastinate_worker(
    papp,  # noqa: F811
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant, buyer = create_user(merchant=True), create_user(name="Bea")
    admin = create_user(name="Root")
    set_user(papp, admin.id, is_admin=True)
    product = create_product(merchant, price_minor=1_000, stock=5)
    address_id = create_address(buyer)
    url = processes.serve(**PROCRASTINATE)
    # Two workers offer the periodic tasks; a 1 s turn of the commission release must still
    # run once per turn for the whole deployment (not twice).
    for _ in range(2):
        processes.worker(
            "--queues", "payments,default", COMMISSION_RELEASE_EVERY_SECONDS="1", **PROCRASTINATE
        )

    order_id = pay(url, buyer, product, address_id)

    # The order reads paid once the webhook is in; the job is marked done a moment later.
    wait_for(
        lambda: [job["status"] for job in jobs(papp, DELIVER_JOB)] == ["succeeded"],
        timeout=10,
        what="the webhook job to be marked done",
    )
    [delivery] = jobs(papp, DELIVER_JOB)
    assert delivery["queue_name"] == "payments"
    page = Browser(url).log_in(admin.email).http.get(f"{url}/admin/jobs?queue=payments").text
    card = re.search(rf'data-job-id="{delivery["id"]}" data-state="(\w+)"', page)
    assert card is not None and card[1] == "done", page
    assert DELIVER_JOB in page and order_id
    # Nothing went to the database backend's table.
    with papp.app_context():
        assert db.session.execute(text("SELECT count(*) FROM jobs")).scalar() == 0

    wait_for(lambda: release_runs(papp) >= 1, timeout=30, what="the first release turn")
    first, at_start = time.monotonic(), release_runs(papp)
    time.sleep(3)
    turns, elapsed = release_runs(papp) - at_start, time.monotonic() - first
    assert 1 <= turns <= elapsed + 1, (turns, elapsed, processes.logs())


# The worker's connections: its LISTEN and its job queries all name procrastinate's objects.
_WORKER_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND query ILIKE '%procrastinate%'"
)


def test_a_worker_whose_database_connection_is_cut_connects_again_and_runs_the_next_job(
    papp,  # noqa: F811
    processes,
    create_user,
    create_product,
    create_address,  # noqa: F811
):
    merchant, buyer = create_user(merchant=True), create_user(name="Bea")
    product = create_product(merchant, price_minor=1_000, stock=5)
    address_id = create_address(buyer)
    url = processes.serve(**PROCRASTINATE)
    processes.worker("--queues", "payments,default", **PROCRASTINATE)

    def worker_backends() -> list[int]:
        with papp.app_context():
            pids = list(db.session.scalars(text(_WORKER_BACKENDS)))
            db.session.remove()
            return pids

    wait_for(worker_backends, timeout=30, what="the worker to connect")
    # As a database restart or a failover would, over and over for 3 s: some of the cuts land
    # while a query of the worker is in flight, which procrastinate raises out of its worker.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        with papp.app_context():
            db.session.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM ({_WORKER_BACKENDS}) w")
            )
            db.session.commit()
            db.session.remove()
        time.sleep(0.01)
    pay(url, buyer, product, address_id)  # waits for the payments job to mark the order paid
    assert processes.started[-1][0].poll() is None, processes.logs()


def release_runs(app) -> int:
    with app.app_context():
        task = db.session.get(PeriodicTask, "commerce.attribution.jobs.release_due_commissions")
        return 0 if task is None else task.runs


def queue_transcode(papp, create_user, clips) -> int:  # noqa: F811
    """A real upload through the procrastinate-backed app; its transcode waits for a worker."""
    creator = create_user(creator=True)
    api = ApiClient(papp.test_client()).login(creator)
    assert upload_video(api, clips["good"]).status_code == 201
    return jobs(papp, "video.transcode")[-1]["id"]


def test_sigterm_finishes_the_transcode_and_a_second_signal_hands_it_back(
    papp,  # noqa: F811
    processes,
    create_user,
    clips,
):
    for _ in range(2):
        queue_transcode(papp, create_user, clips)
    # Two media workers, one transcode each: one is told to stop (SIGTERM), the other, slowed
    # down, to stop at once (SIGTERM, then SIGINT).
    draining = processes.worker("--queues", "media", **PROCRASTINATE)
    urgent = processes.worker("--queues", "media", TRANSCODE_PRESET="veryslow", **PROCRASTINATE)
    wait_for(
        lambda: [job["status"] for job in jobs(papp, "video.transcode")] == ["doing", "doing"],
        timeout=30,
        what="both transcodes to start",
    )
    draining.send_signal(signal.SIGTERM)
    urgent.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    urgent.send_signal(signal.SIGINT)
    assert urgent.wait(20) == 0, processes.logs()
    assert "1 job(s) back in the queue" in processes.log_of(urgent)
    assert draining.wait(60) == 0, processes.logs()
    finished = sorted(
        (job["status"], job["attempts"], job["error"]) for job in jobs(papp, "video.transcode")
    )
    # The drained one finished; the other is queued again at once, as if never started (no
    # waiting for the stall timeout).
    assert finished == [("succeeded", 1, None), ("todo", 0, None)]


def test_a_transcode_whose_worker_is_killed_runs_again(
    papp,  # noqa: F811
    processes,
    create_user,
    clips,
):
    queue_transcode(papp, create_user, clips)
    doomed = processes.worker("--queues", "media", TRANSCODE_PRESET="veryslow", **PROCRASTINATE)
    wait_for(
        lambda: jobs(papp, "video.transcode")[0]["status"] == "doing",
        timeout=30,
        what="the transcode to start",
    )
    doomed.kill()
    doomed.wait(10)
    assert jobs(papp, "video.transcode")[0]["status"] == "doing"  # left behind by the dead worker
    started = time.monotonic()
    processes.worker("--queues", "default,media", JOBS_STALLED_SECONDS="2", **PROCRASTINATE)
    wait_for(
        lambda: jobs(papp, "video.transcode")[0]["status"] == "succeeded",
        timeout=60,
        what="the transcode to run again",
    )
    [job] = jobs(papp, "video.transcode")
    assert job["attempts"] == 2 and "worker stopped before finishing" in job["error"]
    assert time.monotonic() - started < 40, processes.logs()

"""Queues and priorities, waking on commit, racing workers, and looking at the queue (CLI, page)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from commerce.extensions import db
from commerce.jobs import store
from commerce.jobs.models import DEAD, DONE, QUEUED, Job
from commerce.jobs.registry import MEDIA, PAYMENTS, SHORT_QUEUES
from commerce.jobs.runner import Worker, claim_next, enqueue, job_handler, run_one, worker_name
from commerce.timeutil import utcnow
from tests.commerce.attribution.conftest import set_user

RAN: list[tuple[str, int]] = []
_ran_lock = threading.Lock()


def _record(kind):
    def run(payload, ctx):
        with _ran_lock:
            RAN.append((kind, payload["n"]))

    return run


job_handler("test.urgent", queue=PAYMENTS, priority=10)(_record("urgent"))
job_handler("test.chore")(_record("chore"))
job_handler("test.long", queue=MEDIA)(_record("long"))


@job_handler("test.broken", queue=PAYMENTS)
def broken(payload, ctx):
    raise RuntimeError("provider said no")


def _enqueue(app, kind, n, **kwargs) -> int:
    with app.app_context():
        job = enqueue(db.session, kind, {"n": n}, **kwargs)
        db.session.commit()
        return job.id


def _claim_order(app, queues) -> list[str]:
    kinds = []
    with app.app_context():
        while job := claim_next(db.session, "w", utcnow(), timedelta(minutes=1), queues):
            kinds.append(job.kind)
    return kinds


def test_a_worker_takes_its_queues_only_and_higher_priority_first(app):
    _enqueue(app, "test.long", 1)
    _enqueue(app, "test.chore", 2)
    _enqueue(app, "test.urgent", 3)  # enqueued last, taken first
    assert _claim_order(app, SHORT_QUEUES) == ["test.urgent", "test.chore"]
    assert _claim_order(app, (MEDIA,)) == ["test.long"]


def test_a_rolled_back_enqueue_leaves_no_job(app):
    with app.app_context():
        enqueue(db.session, "test.urgent", {"n": 1})
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(Job)) == 0


def test_a_commit_wakes_the_worker_of_that_queue_at_once(app):
    RAN.clear()
    # A poll of a minute: only the commit can make the job run within the test.
    worker = Worker(app, queues=SHORT_QUEUES, poll_seconds=60).start()
    try:
        time.sleep(0.3)  # the worker has polled once and is waiting
        started = time.monotonic()
        _enqueue(app, "test.urgent", 7)
        deadline = started + 10
        while ("urgent", 7) not in RAN and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ("urgent", 7) in RAN
        assert time.monotonic() - started < 30  # far below the poll: woken, not polled
    finally:
        worker.stop(timeout=5)


@pytest.mark.parametrize("workers", [4])
def test_racing_workers_run_every_job_exactly_once(app, workers):
    RAN.clear()
    for n in range(40):
        _enqueue(app, "test.chore" if n % 2 else "test.urgent", n)
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            with app.app_context():
                name = worker_name()
                while run_one(db.session(), name, timedelta(minutes=1), SHORT_QUEUES):
                    pass
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(n for _, n in RAN) == list(range(40))  # each once: no double run, none lost
    with app.app_context():
        assert set(db.session.scalars(select(Job.state))) == {DONE}
        assert set(db.session.scalars(select(Job.attempts))) == {1}


@pytest.mark.parametrize(
    ("state", "last_error", "shown"),
    [
        ("queued", None, "queued"),
        ("queued", "boom", "failed"),
        ("running", None, "running"),
        ("running", "boom", "running"),
        ("dead", "boom", "dead"),
        ("done", None, "done"),
    ],
)
def test_view_state(state, last_error, shown):
    assert store.view_state(state, last_error) == shown


def _dead_job(app) -> int:
    job_id = _enqueue(app, "test.broken", 1, max_attempts=1)
    with app.app_context():
        assert run_one(db.session, "w", timedelta(minutes=1)) is True
        assert db.session.get(Job, job_id).state == DEAD
    return job_id


def test_the_cli_shows_counts_lists_and_retries(app):
    dead = _dead_job(app)
    _enqueue(app, "test.long", 2)
    runner = app.test_cli_runner()
    stats = runner.invoke(args=["jobs", "stats"])
    assert stats.exit_code == 0, stats.output
    lines = {line.split()[0]: line.split()[1:] for line in stats.output.splitlines()[1:]}
    # columns: queued running failed dead done
    assert lines["payments"][:5] == ["0", "0", "0", "1", "0"]
    assert lines["media"][:5] == ["1", "0", "0", "0", "0"]
    listed = runner.invoke(args=["jobs", "list", "--state", "dead"])
    assert f"{dead:>7}  payments dead" in listed.output and "provider said no" in listed.output
    shown = runner.invoke(args=["jobs", "show", str(dead)])
    assert "RuntimeError: provider said no" in shown.output and '"n": 1' in shown.output
    assert runner.invoke(args=["jobs", "show", "999999"]).exit_code == 1
    retried = runner.invoke(args=["jobs", "retry", str(dead)])
    assert retried.exit_code == 0 and f"job {dead} queued again" in retried.output
    with app.app_context():
        job = db.session.get(Job, dead)
        assert (job.state, job.attempts) == (QUEUED, 0)
    again = runner.invoke(args=["jobs", "retry", str(dead)])  # queued, not failed: refused
    assert again.exit_code == 1 and "Only failed or dead jobs" in again.output
    with app.app_context():
        db.session.execute(update(Job).values(state=DEAD))
        db.session.commit()
    every = runner.invoke(args=["jobs", "retry", "--dead", "--queue", "media"])
    assert "1 dead job(s) queued again" in every.output


def test_the_admin_page_lists_and_retries_for_admins_only(app, create_user, make_api):
    dead = _dead_job(app)
    admin, someone = create_user(name="Root"), create_user(name="Sam")
    set_user(app, admin.id, is_admin=True)
    assert make_api(someone).client.get("/admin/jobs").status_code == 403
    as_admin = make_api(admin)
    page = as_admin.client.get("/admin/jobs?state=dead").get_data(as_text=True)
    assert f'data-job-id="{dead}" data-state="dead"' in page and "provider said no" in page
    assert make_api(someone).post(f"/admin/jobs/{dead}/retry").status_code == 403
    retried = as_admin.post(f"/admin/jobs/{dead}/retry")
    assert retried.status_code == 302
    with app.app_context():
        assert db.session.get(Job, dead).state == QUEUED
    assert as_admin.post(f"/admin/jobs/{dead}/retry").status_code == 409
    assert as_admin.post("/admin/jobs/424242/retry").status_code == 404

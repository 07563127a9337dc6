"""JOBS_BACKEND=procrastinate: the jobs contract on Procrastinate's tables (PostgreSQL only).

Deferring happens on the request's own connection: a rollback leaves no job, and no worker sees
one before the commit. Failures retry with our backoff, the last one calls on_failure and the job
is dead; stalled jobs of a worker that stopped beating go back to the queue. The worker here is
Procrastinate's own, run in this process until its queues are empty.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from commerce.config import check_jobs_backend
from commerce.extensions import db
from commerce.jobs import store
from commerce.jobs.procrastinate_worker import retry_stalled_jobs
from commerce.jobs.registry import DEFAULT, PAYMENTS, enqueue, job_handler
from commerce.jobs.runner import run_pending
from commerce.timeutil import utcnow

CALLS: list[tuple[int, dict]] = []
FAILURES: list[tuple[dict, str]] = []

PROCRASTINATE_TABLES = (
    "TRUNCATE procrastinate_jobs, procrastinate_workers, procrastinate_periodic_defers,"
    " procrastinate_events, job_errors RESTART IDENTITY CASCADE"
)


@job_handler("test.procr_record", queue=PAYMENTS, priority=10)
def record(payload, ctx):
    CALLS.append((ctx.attempt, payload))


@job_handler(
    "test.procr_flaky",
    on_failure=lambda session, payload, error: FAILURES.append((payload, error)),
)
def flaky(payload, ctx):
    CALLS.append((ctx.attempt, payload))
    if ctx.attempt < payload["succeed_on"]:
        raise RuntimeError(f"boom on attempt {ctx.attempt}")


@pytest.fixture
def papp(make_app, database_url):
    """An app with JOBS_BACKEND=procrastinate on the run's PostgreSQL database."""
    if not database_url.startswith("postgresql"):
        pytest.skip("Procrastinate needs PostgreSQL (make test-pg runs this)")
    app = make_app(JOBS_BACKEND="procrastinate")
    CALLS.clear()
    FAILURES.clear()
    with app.app_context():
        db.session.execute(text(PROCRASTINATE_TABLES))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.execute(text(PROCRASTINATE_TABLES))
        db.session.commit()


def work(app, *queues: str) -> int:
    """Procrastinate's worker on `queues` (all when none) until nothing is due (run_pending)."""
    return run_pending(app, queues=queues or None)


def rows(app) -> list[dict]:
    with app.app_context():
        result = db.session.execute(
            text(
                "SELECT id, task_name, queue_name, priority, status::text, attempts, args,"
                " scheduled_at FROM procrastinate_jobs ORDER BY id"
            )
        )
        return [dict(row._mapping) for row in result]


def defer(app, kind, payload, **kwargs) -> int:
    with app.app_context():
        job = enqueue(db.session, kind, payload, **kwargs)
        db.session.commit()
        return job.id


@pytest.mark.parametrize(
    ("backend", "url", "refused"),
    [
        ("database", "sqlite:///x.sqlite3", False),
        ("database", "postgresql+psycopg://h/db", False),
        ("procrastinate", "postgresql+psycopg://h/db", False),
        ("procrastinate", "sqlite:///x.sqlite3", True),
        ("celery", "postgresql+psycopg://h/db", True),
    ],
)
def test_the_backend_is_checked_at_start_up(backend, url, refused):
    if refused:
        with pytest.raises(RuntimeError, match="JOBS_BACKEND"):
            check_jobs_backend(backend, url)
    else:
        check_jobs_backend(backend, url)


def test_procrastinate_on_sqlite_is_refused_with_a_message(make_app, database_url):
    if database_url.startswith("postgresql"):
        pytest.skip("the refusal is for SQLite")
    with pytest.raises(RuntimeError, match="JOBS_BACKEND=procrastinate needs PostgreSQL"):
        make_app(JOBS_BACKEND="procrastinate")


def test_a_rollback_leaves_no_job(papp):
    with papp.app_context():
        enqueue(db.session, "test.procr_record", {"n": 1})
        db.session.rollback()
    assert rows(papp) == []
    work(papp)
    assert CALLS == []


def test_a_job_is_invisible_before_commit_then_runs(papp, database_url):
    with papp.app_context():
        job = enqueue(db.session, "test.procr_record", {"n": 2})
        # Another connection (a worker's) sees nothing while the request's transaction is open.
        other = create_engine(database_url)
        with other.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 0
        other.dispose()
        work(papp)
        assert CALLS == []
        db.session.commit()
    [row] = rows(papp)
    assert (row["id"], row["task_name"], row["queue_name"], row["priority"]) == (
        job.id,
        "test.procr_record",
        PAYMENTS,
        10,
    )
    work(papp, PAYMENTS)
    assert CALLS == [(1, {"n": 2})]
    assert rows(papp)[0]["status"] == "succeeded"


def test_payments_go_first(papp):
    defer(papp, "test.procr_flaky", {"succeed_on": 1, "n": "chore"})
    defer(papp, "test.procr_record", {"n": "payment"})
    assert work(papp, PAYMENTS, DEFAULT) == 2
    assert [payload["n"] for _attempt, payload in CALLS] == ["payment", "chore"]


def test_a_failure_retries_after_backoff_with_its_error_visible(papp):
    job_id = defer(papp, "test.procr_flaky", {"succeed_on": 2})
    before = utcnow()
    work(papp)
    [row] = rows(papp)
    assert (row["status"], row["attempts"]) == ("todo", 1)
    wait = row["scheduled_at"].replace(tzinfo=None) - before
    assert timedelta(seconds=4) < wait < timedelta(seconds=7)  # our backoff: 5 s first
    with papp.app_context():
        shown = store.current().access_job(db.session, job_id)
        assert store.view_state(shown.state, shown.last_error) == "failed"
        assert "boom on attempt 1" in shown.last_error
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    work(papp)
    assert [attempt for attempt, _payload in CALLS] == [1, 2]
    assert rows(papp)[0]["status"] == "succeeded"
    assert FAILURES == []


def test_the_last_failure_calls_on_failure_and_the_job_is_dead(papp):
    job_id = defer(papp, "test.procr_flaky", {"succeed_on": 99}, max_attempts=2)
    work(papp)
    with papp.app_context():
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()
    work(papp)
    assert [attempt for attempt, _payload in CALLS] == [1, 2]
    assert rows(papp)[0]["status"] == "failed"
    [(payload, error)] = FAILURES
    assert payload == {"succeed_on": 99} and "boom on attempt 2" in error
    with papp.app_context():
        shown = store.current().access_job(db.session, job_id)
        assert (shown.state, shown.attempts, shown.max_attempts) == ("dead", 2, 2)
        listed = store.current().list_jobs(db.session, state="dead")
        assert [job.id for job in listed] == [job_id]
        stats = {row.queue: row.counts for row in store.current().queue_stats(db.session, utcnow())}
        assert stats[DEFAULT]["dead"] == 1
        # Retried from the admin page or `flask jobs retry`: fresh attempts, then it runs.
        store.current().do_retry_job(db.session, job_id, utcnow())
        db.session.commit()
    CALLS.clear()
    work(papp)
    assert [attempt for attempt, _payload in CALLS] == [1]  # a fresh start: attempt 1 again
    assert (rows(papp)[0]["status"], rows(papp)[0]["attempts"]) == ("todo", 1)


def test_a_stalled_job_goes_back_to_the_queue(papp):
    job_id = defer(papp, "test.procr_record", {"n": 3})
    with papp.app_context():
        # A worker took the job, then stopped beating (kill -9): its heartbeat is old.
        worker_id = db.session.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 minute') RETURNING id"
            )
        ).scalar_one()
        db.session.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :id"),
            {"w": worker_id, "id": job_id},
        )
        db.session.commit()
        assert retry_stalled_jobs(db.session, 30) == 1
        db.session.commit()
        assert retry_stalled_jobs(db.session, 30) == 0  # once only
    [row] = rows(papp)
    assert (row["status"], row["attempts"]) == ("todo", 1)
    work(papp)
    assert CALLS == [(2, {"n": 3})]


def test_flask_jobs_shows_and_retries_procrastinate_jobs(papp):
    job_id = defer(papp, "test.procr_flaky", {"succeed_on": 99}, max_attempts=1)
    work(papp)
    cli = papp.test_cli_runner()
    listed = cli.invoke(args=["jobs", "list", "--state", "dead"]).output
    assert f"{job_id:>7}  default  dead     test.procr_flaky" in listed
    assert "boom on attempt 1" in cli.invoke(args=["jobs", "show", str(job_id)]).output
    stats = cli.invoke(args=["jobs", "stats"]).output.splitlines()
    [default] = [line for line in stats if line.startswith("default")]
    assert default.split()[1:6] == ["0", "0", "0", "1", "0"]  # queued running failed dead done
    assert f"job {job_id} queued again" in cli.invoke(args=["jobs", "retry", str(job_id)]).output
    assert (rows(papp)[0]["status"], rows(papp)[0]["attempts"]) == ("todo", 0)
    refused = cli.invoke(args=["jobs", "retry", str(job_id)])
    assert refused.exit_code != 0 and "Only failed or dead jobs" in refused.output

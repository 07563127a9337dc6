"""The job queue: crash recovery, retries with a visible error, no double claims."""

from datetime import timedelta

from sqlalchemy import select, update

from commerce.extensions import db
from commerce.jobs.models import DEAD, DONE, QUEUED, RUNNING, Job
from commerce.jobs.runner import claim_next, enqueue, job_handler, run_one, run_pending
from commerce.timeutil import utcnow

CALLS: list[dict] = []
FAILURES: list[str] = []


@job_handler("test.record")
def record(payload, ctx):
    ctx.heartbeat(50)
    CALLS.append(payload)


@job_handler("test.flaky", on_failure=lambda session, payload, error: FAILURES.append(error))
def flaky(payload, ctx):
    CALLS.append(payload)
    if ctx.attempt < payload["succeed_on"]:
        raise RuntimeError(f"boom on attempt {ctx.attempt}")


def _job(app, job_id):
    with app.app_context():
        return db.session.get(Job, job_id)


def _enqueue(app, kind, payload, **kwargs):
    with app.app_context():
        job = enqueue(db.session, kind, payload, **kwargs)
        db.session.commit()
        return job.id


def test_a_job_runs_once_and_is_done(app):
    CALLS.clear()
    job_id = _enqueue(app, "test.record", {"n": 1})
    assert run_pending(app) == 1
    assert run_pending(app) == 0
    job = _job(app, job_id)
    assert job.state == DONE and job.progress == 100 and job.attempts == 1
    assert CALLS == [{"n": 1}]


def test_a_failing_job_is_retried_later_with_its_error_kept(app):
    CALLS.clear()
    job_id = _enqueue(app, "test.flaky", {"succeed_on": 2})
    run_pending(app)
    job = _job(app, job_id)
    assert job.state == QUEUED and "boom on attempt 1" in job.last_error
    assert job.run_after > utcnow()  # backing off, not hammering
    with app.app_context():
        db.session.execute(update(Job).values(run_after=utcnow()))
        db.session.commit()
    run_pending(app)
    job = _job(app, job_id)
    assert job.state == DONE and job.attempts == 2


def test_a_job_out_of_attempts_fails_and_calls_its_failure_hook(app):
    FAILURES.clear()
    job_id = _enqueue(app, "test.flaky", {"succeed_on": 99}, max_attempts=2)
    for _ in range(2):
        with app.app_context():
            db.session.execute(update(Job).values(run_after=utcnow()))
            db.session.commit()
        run_pending(app)
    job = _job(app, job_id)
    assert job.state == DEAD and job.attempts == 2
    assert FAILURES and "boom on attempt 2" in FAILURES[0]


def test_a_job_whose_worker_crashed_is_picked_up_again(app):
    CALLS.clear()
    job_id = _enqueue(app, "test.record", {"n": 2})
    with app.app_context():
        # A worker claimed it and died: the row says running, with a lease now expired.
        job = claim_next(db.session, "dead-worker", utcnow(), timedelta(seconds=-1))
        assert job is not None and job.state == RUNNING
    assert run_pending(app) == 1
    job = _job(app, job_id)
    assert job.state == DONE and job.attempts == 2
    assert "dead-worker" in job.last_error
    assert CALLS == [{"n": 2}]


def test_a_running_job_with_a_live_lease_is_left_alone(app):
    job_id = _enqueue(app, "test.record", {"n": 3})
    with app.app_context():
        claim_next(db.session, "busy-worker", utcnow(), timedelta(minutes=5))
        assert run_one(db.session, "other", timedelta(minutes=5)) is False
    assert _job(app, job_id).state == RUNNING


def test_two_workers_never_claim_the_same_job(app):
    _enqueue(app, "test.record", {"n": 4})
    with app.app_context():
        first = claim_next(db.session, "a", utcnow(), timedelta(minutes=1))
        second = claim_next(db.session, "b", utcnow(), timedelta(minutes=1))
        assert first is not None and second is None
        assert db.session.scalar(select(Job.locked_by)) == "a"

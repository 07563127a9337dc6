"""A database-backed job queue: claim by conditional update, lease with heartbeats, retry."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from commerce.extensions import db
from commerce.jobs.models import DEAD, DONE, QUEUED, RUNNING, Job, PeriodicTask
from commerce.jobs.registry import (  # noqa: F401  (re-exported: where handlers import them)
    DEFAULT,
    HANDLERS,
    MEDIA,
    PERIODIC,
    PROCRASTINATE_BACKEND,
    SHORT_QUEUES,
    Periodic,
    add_waiter,
    enqueue,
    job_handler,
    periodic,
    remove_waiter,
)
from commerce.locking import insert_ignore
from commerce.timeutil import utcnow

log = logging.getLogger(__name__)


class JobContext:
    """Handed to a handler: report progress (which also renews the lease)."""

    def __init__(self, session: Session, job: Job, lease: timedelta) -> None:
        self.session = session
        self.job_id = job.id
        self.attempt = job.attempts
        self._lease = lease

    def heartbeat(self, progress: int | None = None) -> None:
        values: dict[str, Any] = {"locked_until": utcnow() + self._lease}
        if progress is not None:
            values["progress"] = max(0, min(100, progress))
        self.session.execute(update(Job).where(Job.id == self.job_id).values(**values))


def claim_periodic(session: Session, name: str, every: float, worker: str, now: datetime) -> bool:
    """Take this turn of a periodic task if no process of the deployment has taken it yet."""
    insert_ignore(session, PeriodicTask, {"name": name, "next_run_at": now, "runs": 0})
    result = session.execute(
        update(PeriodicTask)
        .where(PeriodicTask.name == name, PeriodicTask.next_run_at <= now)
        .values(
            next_run_at=now + timedelta(seconds=every),
            runs=PeriodicTask.runs + 1,
            last_started_at=now,
            last_run_by=worker,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult[Any], result).rowcount == 1
    session.commit()
    return claimed


def run_periodic(session: Session, task: Periodic, worker: str, config: Mapping[str, Any]) -> bool:
    """Run `task` if this process wins its turn; returns whether it ran here."""
    if not claim_periodic(session, task.name, task.interval(config), worker, utcnow()):
        return False
    error = None
    try:
        task.run(session)
        session.commit()
    except Exception as exc:  # housekeeping must never stop the worker
        log.exception("periodic task %s failed", task.name)
        session.rollback()
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[-4000:]
    session.execute(
        update(PeriodicTask)
        .where(PeriodicTask.name == task.name)
        .values(last_finished_at=utcnow(), last_error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return True


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 5 s, 20 s, 80 s ... capped at 10 min."""
    return timedelta(seconds=min(5 * 4 ** max(attempts - 1, 0), 600))


def recover_expired(session: Session, now: datetime) -> int:
    """Runs whose worker died (lease expired) go back to the queue, or fail if out of attempts."""
    expired = session.scalars(select(Job).where(Job.state == RUNNING, Job.locked_until < now)).all()
    for job in expired:
        reason = f"worker {job.locked_by} stopped before finishing (attempt {job.attempts})"
        # A dead worker (a restart, a deploy) says nothing about the job: run it again now.
        _record_failure(session, job, reason, now, backoff=False)
    return len(expired)


def claim_next(
    session: Session,
    worker: str,
    now: datetime,
    lease: timedelta,
    queues: Collection[str] | None = None,
) -> Job | None:
    """Take the most urgent due job of `queues` (all when None): highest priority, then oldest.

    The conditional update makes two workers never take the same job; on PostgreSQL, SKIP
    LOCKED also keeps racing workers from all reading (and fighting over) the same row.
    """
    query = (
        select(Job.id)
        .where(Job.state == QUEUED, Job.run_after <= now)
        .order_by(Job.priority.desc(), Job.run_after, Job.id)
        .limit(1)
    )
    if queues is not None:
        query = query.where(Job.queue.in_(list(queues)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for _ in range(5):
        job_id = session.scalar(query)
        if job_id is None:
            return None
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == QUEUED)
            .values(
                state=RUNNING,
                locked_by=worker,
                locked_until=now + lease,
                attempts=Job.attempts + 1,
            )
        )
        claimed = cast(CursorResult[Any], result).rowcount
        session.commit()
        if claimed == 1:
            return session.get(Job, job_id, populate_existing=True)
    return None


def _record_failure(
    session: Session, job: Job, error: str, now: datetime, *, backoff: bool = True
) -> None:
    job.last_error = error[-4000:]
    job.locked_by = None
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.state = DEAD
        job.finished_at = now
        handler = HANDLERS.get(job.kind)
        if handler and handler.on_failure:
            handler.on_failure(session, job.payload, error)
    else:
        job.state = QUEUED
        job.run_after = now + retry_delay(job.attempts) if backoff else now


def run_one(
    session: Session, worker: str, lease: timedelta, queues: Collection[str] | None = None
) -> bool:
    """Run one due job of `queues` (all when None) if there is one; returns whether one ran."""
    now = utcnow()
    recover_expired(session, now)
    session.commit()
    job = claim_next(session, worker, now, lease, queues)
    if job is None:
        return False
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        handler.run(dict(job.payload), JobContext(session, job, lease))
    except (KeyboardInterrupt, SystemExit):  # stopped mid-job: another worker runs it now
        session.rollback()
        give_back(session, worker, job_id=job.id)
        session.commit()
        raise
    except Exception as exc:  # a failing job must never kill the worker
        session.rollback()
        log.warning("job %s (%s) failed: %s", job.id, job.kind, exc)
        job = session.get(Job, job.id, populate_existing=True)
        assert job is not None
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        _record_failure(session, job, detail, utcnow())
        session.commit()
        return True
    job = session.get(Job, job.id, populate_existing=True)
    assert job is not None
    job.state, job.progress, job.finished_at = DONE, 100, utcnow()
    job.locked_by = job.locked_until = None
    session.commit()
    return True


def give_back(session: Session, worker: str, *, job_id: int | None = None) -> int:
    """Return the worker's running jobs to the queue at once, as if never started.

    A worker that stops mid-job (a deploy, Ctrl-C) hands its job back instead of leaving it
    locked until the lease expires; the attempt is not counted against the job.
    """
    condition = [Job.state == RUNNING, Job.locked_by == worker]
    if job_id is not None:
        condition.append(Job.id == job_id)
    result = session.execute(
        update(Job)
        .where(*condition)
        .values(
            state=QUEUED,
            locked_by=None,
            locked_until=None,
            run_after=utcnow(),
            attempts=Job.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_pending(app: Flask, *, limit: int = 100, queues: Collection[str] | None = None) -> int:
    """Run due jobs (of `queues`, all when None) until none is left (tests, the demo seeder)."""
    if app.config["JOBS_BACKEND"] == PROCRASTINATE_BACKEND:
        from commerce.jobs.procrastinate_worker import run_until_idle

        return run_until_idle(app, queues)
    ran = 0
    with app.app_context():
        lease = timedelta(seconds=app.config["JOB_LEASE_SECONDS"])
        while ran < limit and run_one(db.session(), worker_name(), lease, queues):
            ran += 1
        db.session.remove()
    return ran


def offer_periodic(
    app: Flask, tasks: Collection[Periodic], last_try: dict[str, float], name: str
) -> None:
    """Offer to run each periodic task that is due here; the database picks one process."""
    now = time.monotonic()
    for task in tasks:
        # Each process asks every 5 s at most (or each interval, if shorter): N processes
        # cost N small UPDATEs per 5 s, one of them runs the task, and a turn is late by
        # 5 s at most.
        every = task.interval(app.config)
        if now - last_try.get(task.name, -every) < min(every, 5.0):
            continue
        last_try[task.name] = now
        try:
            run_periodic(db.session(), task, name, app.config)
        except Exception:  # the claim itself failed (database away): try again later
            log.exception("periodic task %s could not be claimed", task.name)
            db.session.rollback()


class Worker:
    """Runs the jobs of some queues, one at a time, in a thread of `flask serve` or `flask worker`.

    It wakes at once when this process commits a job for its queues, and polls every
    `poll_seconds` for jobs other processes enqueued. A worker serving the default queue also
    offers to run the periodic tasks (the database lets one process per turn run each).
    """

    def __init__(
        self,
        app: Flask,
        *,
        queues: Collection[str] = SHORT_QUEUES,
        poll_seconds: float | None = None,
    ) -> None:
        self.app = app
        self.queues = frozenset(queues)
        self.poll_seconds = poll_seconds or float(app.config["JOBS_POLL_SECONDS"])
        self.housekeeping = DEFAULT in self.queues
        self.name: str | None = None  # set by run_forever (it names the thread it runs on)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Finish the job at hand (if any), then leave the loop: a graceful drain."""
        self._stop.set()
        self._wake.set()

    def _housekeeping(self, last_try: dict[str, float], name: str) -> None:
        offer_periodic(self.app, PERIODIC, last_try, name)

    def run_forever(self) -> None:
        lease = timedelta(seconds=self.app.config["JOB_LEASE_SECONDS"])
        name = self.name = worker_name()
        log.info("job worker %s started on %s", name, ", ".join(sorted(self.queues)))
        last_try: dict[str, float] = {}
        add_waiter(self._wake, self.queues)
        try:
            while not self._stop.is_set():
                self._wake.clear()  # a commit from now on wakes the wait below
                with self.app.app_context():
                    if self.housekeeping:
                        self._housekeeping(last_try, name)
                    try:
                        ran = run_one(db.session(), name, lease, self.queues)
                    except Exception:  # database hiccup: log, back off, keep serving
                        log.exception("job worker loop error")
                        db.session.rollback()
                        ran = False
                    finally:
                        db.session.remove()
                if not ran:
                    self._wake.wait(self.poll_seconds)
        finally:
            remove_waiter(self._wake)

    def start(self) -> Worker:
        label = "job-worker-" + "-".join(sorted(self.queues))
        self._thread = threading.Thread(target=self.run_forever, name=label, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Drain for up to `timeout` seconds; a job still running then goes back to the queue."""
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive() and self.name is not None:
            with self.app.app_context():
                returned = give_back(db.session(), self.name)
                db.session.commit()
                db.session.remove()
            log.warning(
                "job worker %s stopped mid-job: %d job(s) back in the queue", self.name, returned
            )


def in_process_workers(app: Flask, *, poll_seconds: float | None = None) -> list[Worker]:
    """What `flask serve` runs beside the web app: short jobs on one thread, media on others.

    A transcode (minutes) then never holds the thread a payment webhook (milliseconds) needs.
    """
    media_threads = max(1, app.config["JOBS_MEDIA_CONCURRENCY"])
    media = [Worker(app, queues=(MEDIA,), poll_seconds=poll_seconds) for _ in range(media_threads)]
    return [Worker(app, queues=SHORT_QUEUES, poll_seconds=poll_seconds), *media]


def stop_workers(workers: list[Worker], drain_seconds: float) -> None:
    """Drain all at once (they share the deadline), then hand back what still runs."""
    for worker in workers:
        worker.request_stop()
    deadline = time.monotonic() + drain_seconds
    for worker in workers:
        worker.stop(timeout=max(0.0, deadline - time.monotonic()))

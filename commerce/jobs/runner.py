"""A database-backed job queue: claim by conditional update, lease with heartbeats, retry."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from commerce.extensions import db
from commerce.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job, PeriodicTask
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


@dataclass(frozen=True)
class Handler:
    run: Callable[[dict[str, Any], JobContext], None]
    on_failure: Callable[[Session, dict[str, Any], str], None] | None


@dataclass(frozen=True)
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[Session], None]
    setting: str | None  # an app setting that overrides every_seconds when present

    def interval(self, config: Mapping[str, Any]) -> float:
        if self.setting and config.get(self.setting) is not None:
            return float(config[self.setting])
        return self.every_seconds


HANDLERS: dict[str, Handler] = {}
PERIODIC: list[Periodic] = []


def job_handler(
    kind: str, *, on_failure: Callable[[Session, dict[str, Any], str], None] | None = None
) -> Callable[[Callable[[dict[str, Any], JobContext], None]], Callable[..., None]]:
    """Register the function that runs jobs of `kind`; on_failure runs when retries are spent."""

    def decorator(fn: Callable[[dict[str, Any], JobContext], None]) -> Callable[..., None]:
        HANDLERS[kind] = Handler(fn, on_failure)
        return fn

    return decorator


def periodic(
    every_seconds: float, *, setting: str | None = None
) -> Callable[[Callable[[Session], None]], Callable[[Session], None]]:
    """Register housekeeping that runs about every `every_seconds`, once per deployment.

    `setting` names an app setting that overrides the interval (tests, busy deployments).
    """

    def decorator(fn: Callable[[Session], None]) -> Callable[[Session], None]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        PERIODIC[:] = [task for task in PERIODIC if task.name != name]  # a re-import replaces
        PERIODIC.append(Periodic(name, every_seconds, fn, setting))
        return fn

    return decorator


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


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, max_attempts: int = 3) -> Job:
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job(kind=kind, payload=payload, max_attempts=max_attempts, state=QUEUED)
    session.add(job)
    session.flush()
    return job


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


def claim_next(session: Session, worker: str, now: datetime, lease: timedelta) -> Job | None:
    """Take the oldest due job; the conditional update makes two workers never take the same."""
    for _ in range(5):
        job_id = session.scalar(
            select(Job.id)
            .where(Job.state == QUEUED, Job.run_after <= now)
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
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
        job.state = FAILED
        job.finished_at = now
        handler = HANDLERS.get(job.kind)
        if handler and handler.on_failure:
            handler.on_failure(session, job.payload, error)
    else:
        job.state = QUEUED
        job.run_after = now + retry_delay(job.attempts) if backoff else now


def run_one(session: Session, worker: str, lease: timedelta) -> bool:
    """Run one due job if there is one; returns whether a job ran."""
    now = utcnow()
    recover_expired(session, now)
    session.commit()
    job = claim_next(session, worker, now, lease)
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


def run_pending(app: Flask, *, limit: int = 100) -> int:
    """Run due jobs until none is left (tests, the demo seeder)."""
    ran = 0
    with app.app_context():
        lease = timedelta(seconds=app.config["JOB_LEASE_SECONDS"])
        while ran < limit and run_one(db.session(), worker_name(), lease):
            ran += 1
        db.session.remove()
    return ran


class Worker:
    """Polls for jobs in a loop; runs in a thread of the web process or as `flask worker`."""

    def __init__(self, app: Flask, *, poll_seconds: float = 1.0) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.name: str | None = None  # set by run_forever (it names the thread it runs on)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Finish the job at hand (if any), then leave the loop: a graceful drain."""
        self._stop.set()

    def _housekeeping(self, last_try: dict[str, float], name: str) -> None:
        """Offer to run each periodic task that is due here; the database picks one process."""
        now = time.monotonic()
        for task in PERIODIC:
            # Each process asks every 5 s at most (or each interval, if shorter): N processes
            # cost N small UPDATEs per 5 s, one of them runs the task, and a turn is late by
            # 5 s at most.
            every = task.interval(self.app.config)
            if now - last_try.get(task.name, -every) < min(every, 5.0):
                continue
            last_try[task.name] = now
            try:
                run_periodic(db.session(), task, name, self.app.config)
            except Exception:  # the claim itself failed (database away): try again later
                log.exception("periodic task %s could not be claimed", task.name)
                db.session.rollback()

    def run_forever(self) -> None:
        lease = timedelta(seconds=self.app.config["JOB_LEASE_SECONDS"])
        name = self.name = worker_name()
        log.info("job worker %s started", name)
        last_try: dict[str, float] = {}
        while not self._stop.is_set():
            with self.app.app_context():
                self._housekeeping(last_try, name)
                try:
                    ran = run_one(db.session(), name, lease)
                except Exception:  # database hiccup: log, back off, keep serving
                    log.exception("job worker loop error")
                    db.session.rollback()
                    ran = False
                finally:
                    db.session.remove()
            if not ran:
                self._stop.wait(self.poll_seconds)

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run_forever, name="job-worker", daemon=True)
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

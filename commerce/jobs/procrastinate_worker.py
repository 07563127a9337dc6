"""JOBS_BACKEND=procrastinate: `flask worker` runs our handlers as Procrastinate tasks.

Each registered kind becomes a task of the same name, queue and priority. A job's arguments are
`{"payload": ..., "max_attempts": n}`; a retry strategy reads max_attempts and applies our
backoff (5 s, 20 s, 80 s ... 10 min); on the last attempt the task calls the kind's on_failure
before the job is marked failed (shown as dead). Handlers run in worker threads (Procrastinate
runs sync tasks that way), each in its own app context and session, as with our own runner.

Periodic tasks keep our `periodic_tasks` claim (one process per turn, any interval, runs and last
error on the row) instead of Procrastinate's cron periodic: the same proof holds on both
backends, and intervals set in seconds by settings need no cron translation. The worker serving
the default queue offers them from a thread, together with retrying stalled jobs: the running
jobs of a worker whose heartbeat stopped (kill -9, a lost machine) go back to the queue.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Collection
from typing import Any

import procrastinate
import procrastinate.exceptions
from flask import Flask
from procrastinate.jobs import Job as ProcrastinateJob
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from commerce.extensions import db
from commerce.jobs.registry import DEFAULT, HANDLERS, PERIODIC, Periodic
from commerce.jobs.runner import offer_periodic, retry_delay, worker_name

log = logging.getLogger(__name__)


def max_attempts_of(job: ProcrastinateJob) -> int:
    """Enqueued as {"payload": ..., "max_attempts": n}; a job without it runs once."""
    value = job.task_kwargs.get("max_attempts", 1)
    return value if isinstance(value, int) else 1


def conninfo(database_url: str) -> str:
    """The libpq URL of an SQLAlchemy one (postgresql+psycopg://... -> postgresql://...)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


class Backoff(BaseRetryStrategy):
    """Retry until the job's own max_attempts, waiting as our runner does."""

    def get_retry_decision(
        self, *, exception: BaseException, job: ProcrastinateJob
    ) -> RetryDecision | None:
        done = job.attempts + 1  # Procrastinate counts the attempts before this one
        if done >= max_attempts_of(job):
            return None
        return RetryDecision(retry_in={"seconds": int(retry_delay(done).total_seconds())})


class TaskContext:
    """What a handler gets (as runner.JobContext): the session, the job id and attempt."""

    def __init__(self, session: Session, job_id: int, attempt: int) -> None:
        self.session = session
        self.job_id = job_id
        self.attempt = attempt

    def heartbeat(self, progress: int | None = None) -> None:
        """Nothing to renew: Procrastinate's worker heartbeat covers all its running jobs."""


def record_error(session: Session, job_id: int, error: str) -> None:
    session.execute(
        text(
            "INSERT INTO job_errors (job_id, error) VALUES (:id, :error) ON CONFLICT (job_id)"
            " DO UPDATE SET error = excluded.error, failed_at = now()"
        ),
        {"id": job_id, "error": error[-4000:]},
    )


# The jobs this process is running: what a second signal hands back to the queue.
_running: set[int] = set()
_running_lock = threading.Lock()


def _run(flask_app: Flask, kind: str, job: ProcrastinateJob, payload: dict[str, Any]) -> None:
    handler = HANDLERS[kind]
    assert job.id is not None
    attempt = job.attempts + 1
    max_attempts = max_attempts_of(job)
    with _running_lock:
        _running.add(job.id)
    with flask_app.app_context():
        session = db.session()
        try:
            handler.run(dict(payload), TaskContext(session, job.id, attempt))
            session.commit()
        except Exception as exc:
            session.rollback()
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log.warning("job %s (%s) failed: %s", job.id, kind, error)
            record_error(session, job.id, error)
            session.commit()
            if attempt >= max_attempts and handler.on_failure:
                try:
                    handler.on_failure(session, dict(payload), error)
                    session.commit()
                except Exception:  # the job still dies with its own error recorded
                    log.exception("job %s (%s): on_failure failed", job.id, kind)
                    session.rollback()
            raise
        finally:
            db.session.remove()
            with _running_lock:
                _running.discard(job.id)


def hand_back(flask_app: Flask, job_ids: set[int]) -> int:
    """Put this process's running jobs back in the queue at once, as if never started."""
    if not job_ids:
        return 0
    with flask_app.app_context():
        handed = db.session.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'todo', worker_id = NULL,"
                " scheduled_at = now() WHERE id = ANY(:ids) AND status = 'doing'"
            ),
            {"ids": sorted(job_ids)},
        )
        db.session.commit()
        db.session.remove()
        return int(getattr(handed, "rowcount", 0))


def _stop_now_on_second_signal(flask_app: Flask) -> None:
    """Procrastinate drains on the first SIGTERM/SIGINT, then puts back the handlers it found.

    So these run on the second: hand the jobs at hand back (no wait for the stall timeout) and
    leave at once, as `flask worker` does on our own runner.
    """

    def stop_now(signum: int, _frame: object) -> None:
        with _running_lock:
            running = set(_running)
        count = hand_back(flask_app, running)
        print(f"{signal.Signals(signum).name} again: {count} job(s) back in the queue", flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)


def build_app(flask_app: Flask) -> procrastinate.App:
    """A Procrastinate app on the Flask app's database with a task per registered kind."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(flask_app.config["SQLALCHEMY_DATABASE_URI"])
    )
    papp = procrastinate.App(connector=connector)
    for kind, handler in HANDLERS.items():

        def task(context: Any, payload: dict[str, Any], max_attempts: int = 1, _k: str = kind):
            _run(flask_app, _k, context.job, payload)

        papp.task(
            name=kind,
            queue=handler.queue,
            priority=handler.priority,
            retry=Backoff(),
            pass_context=True,
        )(task)
    return papp


def retry_stalled_jobs(session: Session, stalled_seconds: float) -> int:
    """Running jobs whose worker stopped sending heartbeats go back to the queue (or die).

    As our runner's expired leases: the attempt counts, and the last one calls on_failure.
    """
    rows = session.execute(
        text(
            "SELECT j.id, j.task_name, j.attempts, j.args FROM procrastinate_jobs j"
            " LEFT JOIN procrastinate_workers w ON w.id = j.worker_id"
            " WHERE j.status = 'doing' AND (j.worker_id IS NULL"
            " OR w.last_heartbeat < now() - make_interval(secs => :seconds))"
            " FOR UPDATE OF j SKIP LOCKED"
        ),
        {"seconds": stalled_seconds},
    ).all()
    for job_id, kind, attempts, args in rows:
        error = f"worker stopped before finishing (attempt {attempts + 1})"
        record_error(session, job_id, error)
        if attempts + 1 >= int(args.get("max_attempts", 1)):
            session.execute(
                text("SELECT procrastinate_finish_job_v1(:id, 'failed', false)"), {"id": job_id}
            )
            handler = HANDLERS.get(kind)
            if handler and handler.on_failure:
                handler.on_failure(session, dict(args.get("payload", {})), error)
        else:  # a dead worker says nothing about the job: run it again now
            session.execute(
                text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"),
                {"id": job_id},
            )
    session.execute(
        text("SELECT procrastinate_prune_stalled_workers_v1(:seconds)"),
        {"seconds": stalled_seconds},
    )
    return len(rows)


def housekeeping_tasks(flask_app: Flask) -> list[Periodic]:
    """Our periodic tasks, and finding stalled jobs a few times per stall timeout."""
    stalled = float(flask_app.config["JOBS_STALLED_SECONDS"])

    def retry_stalled(session: Session) -> None:
        retry_stalled_jobs(session, stalled)

    every = max(1.0, stalled / 3)
    return [*PERIODIC, Periodic("procrastinate.retry_stalled_jobs", every, retry_stalled, None)]


class Housekeeping:
    """A thread offering the periodic tasks every poll, until stopped."""

    def __init__(self, flask_app: Flask) -> None:
        self.app = flask_app
        self.tasks = housekeeping_tasks(flask_app)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-housekeeping", daemon=True)

    def _loop(self) -> None:
        name, last_try = worker_name(), dict[str, float]()
        poll = float(self.app.config["JOBS_POLL_SECONDS"])
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    offer_periodic(self.app, self.tasks, last_try, name)
                finally:
                    db.session.remove()
            self._stop.wait(poll)

    def start(self) -> Housekeeping:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def run_until_idle(flask_app: Flask, queues: Collection[str] | None = None) -> int:
    """Run the due jobs of `queues` (all when None) in this process until none is left.

    For the demo seeder and tests (runner.run_pending); returns how many jobs left the queue.
    """
    due = text(
        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
        " AND (scheduled_at IS NULL OR scheduled_at <= now())"
    )
    with flask_app.app_context():
        before = db.session.execute(due).scalar_one()
        db.session.remove()
    build_app(flask_app).run_worker(
        queues=list(queues) if queues else None,
        wait=False,
        listen_notify=False,
        install_signal_handlers=False,
    )
    with flask_app.app_context():
        after = db.session.execute(due).scalar_one()
        db.session.remove()
    return max(0, int(before) - int(after))


# A worker that lost its database (a restart, a failover, its backend terminated) waits this
# long, doubling up to the cap, before it connects again: exiting would leave its queues unserved
# until someone restarts it.
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0


def run_worker(flask_app: Flask, queues: list[str], concurrency: int) -> None:
    """A Procrastinate worker on `queues` until SIGTERM/SIGINT (it finishes its jobs first)."""
    stalled = float(flask_app.config["JOBS_STALLED_SECONDS"])
    papp = build_app(flask_app)
    housekeeping = Housekeeping(flask_app).start() if DEFAULT in queues else None
    _stop_now_on_second_signal(flask_app)
    delay = RECONNECT_FIRST_SECONDS
    try:
        while True:
            started = time.monotonic()
            try:
                papp.run_worker(
                    queues=queues,
                    concurrency=concurrency,
                    name=worker_name(),
                    fetch_job_polling_interval=float(flask_app.config["JOBS_POLL_SECONDS"]) * 4,
                    update_heartbeat_interval=max(0.5, stalled / 3),
                    stalled_worker_timeout=stalled,
                )
                return  # stopped by a signal, its jobs finished
            except procrastinate.exceptions.ConnectorException as error:
                if time.monotonic() - started > RECONNECT_MAX_SECONDS:
                    delay = RECONNECT_FIRST_SECONDS  # it had been working: start over
                print(
                    f"worker lost the database ({error.__cause__!r}); connecting again in"
                    f" {delay:g} s",
                    flush=True,
                )
                _stop_now_on_second_signal(flask_app)  # a signal while waiting leaves at once
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
    finally:
        if housekeeping is not None:
            housekeeping.stop()

"""Looking at the queue: counts, listings and retries, for `flask jobs` and /admin/jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.orm import Session

from commerce.errors import Conflict, NotFound
from commerce.jobs.models import DEAD, DONE, QUEUED, RUNNING, Job
from commerce.jobs.registry import PROCRASTINATE_BACKEND, QUEUES, backend

# What people see: an attempt that failed and waits for its retry is "failed", not "queued".
FAILED = "failed"
VIEW_STATES = (QUEUED, RUNNING, FAILED, DEAD, DONE)


def view_state(state: str, last_error: str | None) -> str:
    """The state shown for a job: a queued job with an error is a failed attempt, retrying."""
    return FAILED if state == QUEUED and last_error else state


def _where_view_state(query: Select[Any], state: str) -> Select[Any]:
    if state == FAILED:
        return query.where(Job.state == QUEUED, Job.last_error.is_not(None))
    if state == QUEUED:
        return query.where(Job.state == QUEUED, Job.last_error.is_(None))
    return query.where(Job.state == state)


@dataclass(frozen=True)
class QueueStats:
    queue: str
    counts: dict[str, int]  # view state -> jobs
    oldest_waiting_s: float | None  # how long the longest-waiting due job has waited


def queue_stats(session: Session, now: datetime) -> list[QueueStats]:
    """Jobs per queue and view state, and the age of each queue's oldest due job."""
    rows = session.execute(
        select(Job.queue, Job.state, Job.last_error.is_not(None), func.count()).group_by(
            Job.queue, Job.state, Job.last_error.is_not(None)
        )
    ).all()
    counts: dict[str, dict[str, int]] = {q: dict.fromkeys(VIEW_STATES, 0) for q in QUEUES}
    for queue, state, has_error, count in rows:
        shown = FAILED if state == QUEUED and has_error else state
        counts.setdefault(queue, dict.fromkeys(VIEW_STATES, 0))[shown] += count
    oldest = dict(
        session.execute(
            select(Job.queue, func.min(Job.run_after))
            .where(Job.state == QUEUED, Job.run_after <= now)
            .group_by(Job.queue)
        ).all()
    )
    return [
        QueueStats(
            queue,
            by_state,
            (now - oldest[queue]).total_seconds() if oldest.get(queue) else None,
        )
        for queue, by_state in counts.items()
    ]


def list_jobs(
    session: Session,
    *,
    state: str | None = None,
    queue: str | None = None,
    limit: int = 50,
) -> list[Job]:
    """The newest jobs first, optionally of one view state and queue."""
    query = select(Job).order_by(Job.id.desc()).limit(max(1, min(limit, 500)))
    if state:
        query = _where_view_state(query, state)
    if queue:
        query = query.where(Job.queue == queue)
    return list(session.scalars(query))


def access_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(_("No job %(id)s.", id=job_id))
    return job


def do_retry_job(session: Session, job_id: int, now: datetime) -> Job:
    """Run a dead job again with fresh attempts, or a failed one now instead of after backoff."""
    job = access_job(session, job_id)
    if view_state(job.state, job.last_error) not in (DEAD, FAILED):
        raise Conflict(_("Only failed or dead jobs can be retried."), code="job_not_retryable")
    if job.state == DEAD:  # a fresh start: its attempts and error begin again
        job.attempts, job.finished_at, job.last_error = 0, None, None
    job.state, job.run_after = QUEUED, now
    session.flush()
    session.info.setdefault("enqueued_queues", set()).add(job.queue)  # wake this process's workers
    return job


def do_retry_dead(session: Session, now: datetime, *, queue: str | None = None) -> int:
    """Every dead job (of `queue`) back in the queue with fresh attempts."""
    statement = (
        update(Job)
        .where(Job.state == DEAD)
        .values(state=QUEUED, attempts=0, finished_at=None, last_error=None, run_after=now)
        .execution_options(synchronize_session=False)
    )
    if queue:
        statement = statement.where(Job.queue == queue)
    retried = cast(CursorResult[Any], session.execute(statement)).rowcount
    if retried:
        session.info.setdefault("enqueued_queues", set()).update([queue] if queue else QUEUES)
    return retried


def current() -> ModuleType:
    """The store of the app's JOBS_BACKEND: this module (the `jobs` table) or Procrastinate's.

    Both offer queue_stats, list_jobs, access_job, do_retry_job and do_retry_dead, returning
    jobs with the same attributes, so `flask jobs` and /admin/jobs work on either backend.
    """
    if backend() == PROCRASTINATE_BACKEND:
        from commerce.jobs import procrastinate_store

        return procrastinate_store
    import commerce.jobs.store as this

    return this

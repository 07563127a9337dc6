"""JOBS_BACKEND=procrastinate: deferring in the caller's transaction, and the JobStore in SQL.

Jobs are rows of Procrastinate's `procrastinate_jobs` (schema applied by our migration). A job is
deferred by calling Procrastinate's own SQL function on the request's SQLAlchemy connection, so
it commits or rolls back with the order or payment that asked for it, and its insert trigger's
NOTIFY reaches the workers only at COMMIT (PostgreSQL delivers notifications then).

States shown (store.VIEW_STATES) from Procrastinate's: todo -> queued, or failed (retrying) when
an attempt already failed; doing -> running; succeeded -> done; failed, aborted, cancelled ->
dead. Procrastinate keeps no error text: the worker writes each failed attempt's to `job_errors`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.orm import Session

from commerce.errors import Conflict, NotFound
from commerce.jobs.models import DEAD, DONE, QUEUED, RUNNING
from commerce.jobs.registry import QUEUES
from commerce.jobs.store import FAILED, VIEW_STATES, QueueStats

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, NULL, NULL,"
    " CAST(:args AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1])) AS id"
)


@dataclass(frozen=True)
class Deferred:
    """What `enqueue` returns under this backend: the new row of procrastinate_jobs."""

    id: int
    kind: str
    queue: str


def defer(
    session: Session,
    kind: str,
    queue: str,
    priority: int,
    payload: dict[str, Any],
    max_attempts: int,
    run_after: datetime | None,
) -> Deferred:
    """Insert the job on the session's own connection: it exists only if the caller commits."""
    scheduled = run_after.replace(tzinfo=UTC) if run_after and not run_after.tzinfo else run_after
    job_id = session.execute(
        _DEFER,
        {
            "queue": queue,
            "task": kind,
            "priority": priority,
            "args": json.dumps({"payload": payload, "max_attempts": max_attempts}),
            "scheduled_at": scheduled,
        },
    ).scalar_one()
    return Deferred(job_id, kind, queue)


@dataclass(frozen=True)
class JobRow:
    """One job as `flask jobs` and /admin/jobs show it (the attributes of models.Job they use)."""

    id: int
    kind: str
    queue: str
    state: str  # queued, running, done, dead (a queued one with last_error shows as failed)
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    created_at: datetime
    run_after: datetime
    last_error: str | None
    locked_by: str | None


_STATE = """CASE j.status WHEN 'todo' THEN 'queued' WHEN 'doing' THEN 'running'
    WHEN 'succeeded' THEN 'done' ELSE 'dead' END"""
_CREATED = (
    "(SELECT min(e.at) FROM procrastinate_events e"
    " WHERE e.job_id = j.id AND e.type = 'deferred') AT TIME ZONE 'UTC'"
)
_SELECT = f"""
SELECT j.id, j.task_name, j.queue_name, {_STATE} AS state,
       j.attempts + CASE WHEN j.status = 'doing' THEN 1 ELSE 0 END AS attempts,
       COALESCE((j.args ->> 'max_attempts')::int, 1) AS max_attempts,
       COALESCE(j.args -> 'payload', '{{}}'::jsonb) AS payload,
       {_CREATED} AS created_at, j.scheduled_at AT TIME ZONE 'UTC' AS scheduled_at,
       CASE WHEN j.status = 'todo' AND j.attempts > 0 THEN COALESCE(x.error, 'retrying')
            WHEN j.status = 'todo' THEN NULL ELSE x.error END AS last_error,
       j.worker_id
FROM procrastinate_jobs j LEFT JOIN job_errors x ON x.job_id = j.id
"""
_WHERE_VIEW_STATE = {
    QUEUED: "j.status = 'todo' AND j.attempts = 0",
    FAILED: "j.status = 'todo' AND j.attempts > 0",
    RUNNING: "j.status = 'doing'",
    DONE: "j.status = 'succeeded'",
    DEAD: "j.status IN ('failed', 'aborted', 'cancelled')",
}


def _row(values: Any) -> JobRow:
    created = values.created_at or values.scheduled_at or datetime(1970, 1, 1)
    return JobRow(
        id=values.id,
        kind=values.task_name,
        queue=values.queue_name,
        state=values.state,
        attempts=values.attempts,
        max_attempts=values.max_attempts,
        payload=values.payload,
        created_at=created,
        run_after=values.scheduled_at or created,
        last_error=values.last_error,
        locked_by=None if values.worker_id is None else f"procrastinate worker {values.worker_id}",
    )


def queue_stats(session: Session, now: datetime) -> list[QueueStats]:
    """Jobs per queue and shown state, and how long each queue's oldest due job has waited."""
    counts: dict[str, dict[str, int]] = {q: dict.fromkeys(VIEW_STATES, 0) for q in QUEUES}
    rows = session.execute(
        text(
            f"SELECT j.queue_name, {_STATE}, j.status = 'todo' AND j.attempts > 0, count(*)"
            " FROM procrastinate_jobs j GROUP BY 1, 2, 3"
        )
    ).all()
    for queue, state, retrying, count in rows:
        shown = FAILED if retrying else state
        counts.setdefault(queue, dict.fromkeys(VIEW_STATES, 0))[shown] += count
    oldest: dict[str, datetime] = dict(
        session.execute(  # type: ignore[arg-type]
            text(
                f"SELECT j.queue_name, min(COALESCE(j.scheduled_at AT TIME ZONE 'UTC', {_CREATED}))"
                " FROM procrastinate_jobs j WHERE j.status = 'todo'"
                " AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()) GROUP BY 1"
            )
        ).all()
    )
    return [
        QueueStats(
            queue,
            by_state,
            max(0.0, (now - oldest[queue]).total_seconds()) if oldest.get(queue) else None,
        )
        for queue, by_state in counts.items()
    ]


def list_jobs(
    session: Session, *, state: str | None = None, queue: str | None = None, limit: int = 50
) -> list[JobRow]:
    """The newest jobs first, optionally of one shown state and queue."""
    conditions, params = ["TRUE"], {"limit": max(1, min(limit, 500))}
    if state in _WHERE_VIEW_STATE:
        conditions.append(_WHERE_VIEW_STATE[state])
    if queue:
        conditions.append("j.queue_name = :queue")
        params["queue"] = queue  # type: ignore[assignment]
    query = f"{_SELECT} WHERE {' AND '.join(conditions)} ORDER BY j.id DESC LIMIT :limit"
    return [_row(values) for values in session.execute(text(query), params)]


def access_job(session: Session, job_id: int) -> JobRow:
    values = session.execute(text(f"{_SELECT} WHERE j.id = :id"), {"id": job_id}).first()
    if values is None:
        raise NotFound(_("No job %(id)s.", id=job_id))
    return _row(values)


def _notify(session: Session, queues: list[str]) -> None:
    """Wake the workers of `queues` at commit, as a newly deferred job's trigger does."""
    for queue in queues:
        session.execute(
            text(
                "SELECT pg_notify('procrastinate_queue_v1#' || :queue, :payload),"
                " pg_notify('procrastinate_any_queue_v1', :payload)"
            ),
            {"queue": queue, "payload": json.dumps({"type": "job_inserted", "job_id": 0})},
        )


def do_retry_job(session: Session, job_id: int, now: datetime) -> JobRow:
    """A dead job again with fresh attempts, or a failed one now instead of after its backoff."""
    job = access_job(session, job_id)
    shown = FAILED if job.state == QUEUED and job.last_error else job.state
    if shown not in (DEAD, FAILED):
        raise Conflict(_("Only failed or dead jobs can be retried."), code="job_not_retryable")
    if shown == DEAD:
        session.execute(text("DELETE FROM job_errors WHERE job_id = :id"), {"id": job_id})
        session.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'todo', attempts = 0, scheduled_at = now()"
                " WHERE id = :id AND status IN ('failed', 'aborted', 'cancelled')"
            ),
            {"id": job_id},
        )
    else:
        session.execute(
            text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = :id"),
            {"id": job_id},
        )
    _notify(session, [job.queue])
    return access_job(session, job_id)


def do_retry_dead(session: Session, now: datetime, *, queue: str | None = None) -> int:
    """Every dead job (of `queue`) back in the queue with fresh attempts."""
    where = "status IN ('failed', 'aborted', 'cancelled')" + (
        " AND queue_name = :queue" if queue else ""
    )
    ids = list(
        session.scalars(
            text(
                "UPDATE procrastinate_jobs SET status = 'todo', attempts = 0, scheduled_at = now()"
                f" WHERE {where} RETURNING id"
            ),
            {"queue": queue},
        )
    )
    if ids:
        session.execute(text("DELETE FROM job_errors WHERE job_id = ANY(:ids)"), {"ids": ids})
        _notify(session, [queue] if queue else list(QUEUES))
    return len(ids)

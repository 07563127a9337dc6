"""What jobs exist: handlers with their queue and priority, periodic tasks, and `enqueue`.

Queues keep short work from waiting behind long work: a payment webhook never waits for a
transcode, because each queue has its own worker (thread or process) and, within the queues a
worker serves, higher priority goes first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from commerce.jobs.models import QUEUED, Job

PAYMENTS, DEFAULT, MEDIA = "payments", "default", "media"
QUEUES = (PAYMENTS, DEFAULT, MEDIA)
# What a worker serves unless told otherwise: everything but the media queue's long jobs.
SHORT_QUEUES = (PAYMENTS, DEFAULT)


@dataclass(frozen=True)
class Handler:
    run: Callable[[dict[str, Any], Any], None]
    on_failure: Callable[[Session, dict[str, Any], str], None] | None
    queue: str
    priority: int


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


DATABASE_BACKEND, PROCRASTINATE_BACKEND = "database", "procrastinate"
BACKENDS = (DATABASE_BACKEND, PROCRASTINATE_BACKEND)

HANDLERS: dict[str, Handler] = {}
PERIODIC: list[Periodic] = []


def job_handler(
    kind: str,
    *,
    queue: str = DEFAULT,
    priority: int = 0,
    on_failure: Callable[[Session, dict[str, Any], str], None] | None = None,
) -> Callable[[Callable[[dict[str, Any], Any], None]], Callable[..., None]]:
    """Register the function that runs jobs of `kind`; on_failure runs when retries are spent.

    `queue` says which workers run it (payments, default, media); `priority` orders the jobs a
    worker may take (higher first).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def decorator(fn: Callable[[dict[str, Any], Any], None]) -> Callable[..., None]:
        HANDLERS[kind] = Handler(fn, on_failure, queue, priority)
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


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int = 3,
    run_after: datetime | None = None,
) -> Any:
    """Add a job in the caller's transaction: it exists (and can run) only once that commits.

    Returns the job (a `jobs` row, or a Procrastinate job's id, kind and queue).
    """
    handler = HANDLERS.get(kind)
    if handler is None:
        raise ValueError(f"no handler for job kind {kind!r}")
    if backend() == PROCRASTINATE_BACKEND:
        from commerce.jobs import procrastinate_store

        return procrastinate_store.defer(
            session, kind, handler.queue, handler.priority, payload, max_attempts, run_after
        )
    job = Job(
        kind=kind,
        payload=payload,
        max_attempts=max_attempts,
        state=QUEUED,
        queue=handler.queue,
        priority=handler.priority,
    )
    if run_after is not None:
        job.run_after = run_after
    session.add(job)
    session.flush()
    session.info.setdefault("enqueued_queues", set()).add(handler.queue)
    return job


def backend() -> str:
    """The app's JOBS_BACKEND (outside an app, the embedded default)."""
    if not has_app_context():
        return DATABASE_BACKEND
    return str(current_app.config.get("JOBS_BACKEND", DATABASE_BACKEND))


# Waking workers of this process on commit -------------------------------------------------------
# A job enqueued by a request of this process is run at once instead of at the next poll. Jobs
# enqueued by other processes are found by polling (or LISTEN/NOTIFY on PostgreSQL).

_waiters: dict[threading.Event, frozenset[str]] = {}
_waiters_lock = threading.Lock()


def add_waiter(wake: threading.Event, queues: frozenset[str]) -> None:
    with _waiters_lock:
        _waiters[wake] = queues


def remove_waiter(wake: threading.Event) -> None:
    with _waiters_lock:
        _waiters.pop(wake, None)


def wake_workers(queues: set[str] | frozenset[str]) -> None:
    with _waiters_lock:
        for wake, served in _waiters.items():
            if served & queues:
                wake.set()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    queues = session.info.pop("enqueued_queues", None)
    if queues:
        wake_workers(queues)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("enqueued_queues", None)

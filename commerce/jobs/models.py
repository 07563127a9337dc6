"""Jobs are rows: they survive restarts, and a crashed run is found by its expired lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce.extensions import db
from commerce.timeutil import utcnow

# A job whose attempt failed is QUEUED again with its last_error (shown as "retrying"); DEAD
# means its retries are spent and its on_failure hook ran.
QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    queue: Mapped[str] = mapped_column(String(30), default="default", server_default="default")
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    last_error: Mapped[str | None] = mapped_column(Text)
    run_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        # What a worker asks for: the due jobs of its queues, highest priority first.
        db.Index("ix_jobs_claim", "state", "queue", "priority", "run_after"),
    )


class PeriodicTask(db.Model):
    """One row per periodic task: whoever moves `next_run_at` on runs it (once per deployment).

    Every worker process (and the web process's in-process worker) offers to run each task; a
    conditional UPDATE on this row lets exactly one of them take each turn, on SQLite and
    PostgreSQL alike, however many processes a deployment runs.
    """

    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(default=utcnow)
    runs: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_run_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)

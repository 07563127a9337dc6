"""`flask jobs`: what is queued, running, failed or dead, and retrying it, from a shell."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup

from commerce.errors import DomainError
from commerce.extensions import db
from commerce.jobs import store
from commerce.jobs.registry import QUEUES
from commerce.timeutil import utcnow

jobs_group = AppGroup("jobs", help="Look at background jobs and retry failed ones.")


def _line(job: Any) -> str:  # a models.Job or a procrastinate_store.JobRow
    shown = store.view_state(job.state, job.last_error)
    error = (job.last_error or "").strip().splitlines()
    last = f"  {error[-1][:80]}" if error else ""
    return (
        f"{job.id:>7}  {job.queue:<8} {shown:<8} {job.kind:<26} "
        f"{job.attempts}/{job.max_attempts}  {job.created_at:%Y-%m-%d %H:%M:%S}{last}"
    )


@jobs_group.command("stats")
def stats_command() -> None:
    """Jobs per queue and state, and how long the oldest due job has waited."""
    states = store.VIEW_STATES
    click.echo(f"{'queue':<9}" + "".join(f"{state:>9}" for state in states) + "  oldest waiting")
    for row in store.current().queue_stats(db.session, utcnow()):
        waited = "-" if row.oldest_waiting_s is None else f"{row.oldest_waiting_s:.1f} s"
        counts = "".join(f"{row.counts[state]:>9}" for state in states)
        click.echo(f"{row.queue:<9}{counts}  {waited}")


@jobs_group.command("list")
@click.option("--state", type=click.Choice(store.VIEW_STATES))
@click.option("--queue", type=click.Choice(QUEUES))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
def list_command(state: str | None, queue: str | None, limit: int) -> None:
    """The newest jobs, optionally of one state and queue."""
    for job in store.current().list_jobs(db.session, state=state, queue=queue, limit=limit):
        click.echo(_line(job))


@jobs_group.command("show")
@click.argument("job_id", type=int)
def show_command(job_id: int) -> None:
    """One job: its payload, attempts and whole last error."""
    try:
        job = store.current().access_job(db.session, job_id)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(_line(job))
    click.echo(f"payload: {json.dumps(job.payload, ensure_ascii=False)}")
    click.echo(f"run after: {job.run_after:%Y-%m-%d %H:%M:%S}  locked by: {job.locked_by or '-'}")
    if job.last_error:
        click.echo("last error:\n" + job.last_error)


@jobs_group.command("retry")
@click.argument("job_id", type=int, required=False)
@click.option("--dead", "all_dead", is_flag=True, help="Retry every dead job.")
@click.option("--queue", type=click.Choice(QUEUES), help="With --dead: only this queue.")
def retry_command(job_id: int | None, all_dead: bool, queue: str | None) -> None:
    """Run a failed or dead job again now (or every dead job with --dead)."""
    if (job_id is None) == (not all_dead):
        raise click.UsageError("give a JOB_ID or --dead")
    try:
        if all_dead:
            count = store.current().do_retry_dead(db.session, utcnow(), queue=queue)
            db.session.commit()
            click.echo(f"{count} dead job(s) queued again")
            return
        assert job_id is not None
        job = store.current().do_retry_job(db.session, job_id, utcnow())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"job {job.id} queued again")

"""/admin/jobs: what background work is queued, running, failed or dead, with retry (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import login_required, require_user
from commerce.accounts.models import User
from commerce.errors import Forbidden
from commerce.extensions import db
from commerce.jobs import store
from commerce.jobs.registry import QUEUES
from commerce.timeutil import utcnow

bp = Blueprint("jobs_admin", __name__, url_prefix="/admin/jobs")


def _check_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden(_("Only platform admins can see background jobs."))


def _state_labels() -> dict[str, str]:
    return {
        "queued": _("Queued"),
        "running": _("Running"),
        "failed": _("Failed, will retry"),
        "dead": _("Dead"),
        "done": _("Done"),
    }


def _queue_labels() -> dict[str, str]:
    return {
        "payments": _("Payments and payouts"),
        "default": _("Other short jobs"),
        "media": _("Transcodes and replays"),
    }


@bp.get("")
@login_required
def jobs_page() -> str:
    _check_admin(require_user())
    state = request.args.get("state") if request.args.get("state") in store.VIEW_STATES else None
    queue = request.args.get("queue") if request.args.get("queue") in QUEUES else None
    return render_template(
        "jobs/admin.html",
        stats=store.current().queue_stats(db.session, utcnow()),
        jobs=store.current().list_jobs(db.session, state=state, queue=queue, limit=100),
        state=state,
        queue=queue,
        queues=QUEUES,
        states=store.VIEW_STATES,
        labels=_state_labels(),
        queue_labels=_queue_labels(),
        view_state=store.view_state,
    )


@bp.post("/<int:job_id>/retry")
@login_required
def retry(job_id: int) -> Response:
    _check_admin(require_user())
    job = store.current().do_retry_job(db.session, job_id, utcnow())
    db.session.commit()
    flash(_("Job %(id)s is queued again.", id=job.id))
    return redirect(url_for("jobs_admin.jobs_page", state="queued"))


@bp.post("/retry-dead")
@login_required
def retry_dead() -> Response:
    _check_admin(require_user())
    count = store.current().do_retry_dead(db.session, utcnow())
    db.session.commit()
    flash(_("%(count)s dead jobs are queued again.", count=count))
    return redirect(url_for("jobs_admin.jobs_page"))

"""/admin/reports: the report queue and the audit log (admins), server-rendered forms."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from commerce.accounts.auth import login_required, require_user
from commerce.accounts.models import User
from commerce.comments.models import Comment
from commerce.errors import DomainError
from commerce.extensions import db
from commerce.moderation import labels, rules, services
from commerce.moderation.models import Report
from commerce.reviews.models import Review
from commerce.timeutil import utcnow
from commerce.videos.models import Video

bp = Blueprint("moderation_admin", __name__, url_prefix="/admin/reports")


def _target_view(report: Report) -> dict[str, str | None]:
    """A line saying what was reported, and a link to it where there is a page."""
    key = report.target_key
    if report.target_type == rules.VIDEO:
        video = db.session.scalar(select(Video).where(Video.public_id == key))
        title = video.title if video else key
        return {"text": title, "url": url_for("videos.watch", public_id=key)}
    if report.target_type == rules.ROOM:
        return {"text": key, "url": url_for("live.room_page", public_id=key)}
    if report.target_type == rules.REVIEW:
        review = db.session.get(Review, int(key))
        if review is None:
            return {"text": key, "url": None}
        url = url_for("reviews.product_reviews_page", product_id=review.product_id)
        return {"text": f"{'★' * review.stars} {review.text}", "url": url}
    if report.target_type == rules.COMMENT:
        comment = db.session.get(Comment, int(key))
        if comment is None:
            return {"text": key, "url": None}
        video = db.session.get(Video, comment.video_id)
        url = url_for("videos.watch", public_id=video.public_id) if video else None
        return {"text": comment.text, "url": url}
    user = db.session.get(User, int(key))
    return {
        "text": user.display_name if user else key,
        "url": url_for("videos.creator_page", user_id=int(key)),
    }


@bp.get("")
@login_required
def reports_page() -> str:
    services.require_admin(require_user())
    state = request.args.get("state", rules.OPEN)
    if state not in labels.STATES:
        state = rules.OPEN
    reports = services.queue(db.session, state)
    return render_template(
        "moderation/admin.html",
        state=state,
        reports=[(r, _target_view(r)) for r in reports],
        audit=services.audit_log(db.session),
        labels=labels,
        allowed=rules.allowed_decisions,
    )


@bp.post("/<int:report_id>/decide")
@login_required
def decide(report_id: int) -> Response:
    admin = services.require_admin(require_user())
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip()
    if len(reason) < 3:
        flash(_("Say why (at least 3 characters): it goes in the audit log."))
        return redirect(url_for("moderation_admin.reports_page"))
    try:
        report = services.access_report(db.session, report_id)
        entry = services.do_decide(db.session, report, admin, decision, reason[:1000], utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message))
        return redirect(url_for("moderation_admin.reports_page"))
    db.session.commit()
    flash(_("Done: %(action)s.", action=labels.ACTIONS.get(entry.action, entry.action)))
    return redirect(url_for("moderation_admin.reports_page"))

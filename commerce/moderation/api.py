"""Reports JSON API: viewers report; admins read the queue, decide, and read the audit log."""

from __future__ import annotations

from flask import Blueprint

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.moderation import services
from commerce.moderation.models import ModerationAction, Report
from commerce.moderation.schemas import (
    AuditEntryOut,
    AuditLog,
    DecisionIn,
    QueueQuery,
    ReportIn,
    ReportList,
    ReportOut,
)
from commerce.timeutil import utcnow

bp = Blueprint("moderation_api", __name__, url_prefix="/api/v1")


def report_out(report: Report) -> ReportOut:
    return ReportOut(
        id=report.id,
        target_type=report.target_type,
        target_id=report.target_key,
        reason=report.reason,
        text=report.text,
        state=report.state,
        created_at=report.created_at,
    )


def entry_out(entry: ModerationAction) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        actor_id=entry.actor_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_key,
        report_id=entry.report_id,
        reason=entry.reason,
        created_at=entry.created_at,
    )


@endpoint(
    bp,
    "/reports",
    methods=("POST",),
    summary="Report a video, comment, user or live room (one open report per target)",
    body=ReportIn,
    response=ReportOut,
    status=201,
    errors=(400, 404, 409, 429),
)
def create_report(body: ReportIn) -> ReportOut:
    report = services.do_report(db.session, require_user(), body, utcnow())
    db.session.commit()
    return report_out(report)


@endpoint(
    bp,
    "/admin/reports",
    summary="The report queue (admins)",
    query=QueueQuery,
    response=ReportList,
    errors=(403,),
)
def list_reports(query: QueueQuery) -> ReportList:
    services.require_admin(require_user())
    return ReportList(items=[report_out(r) for r in services.queue(db.session, query.state)])


@endpoint(
    bp,
    "/admin/reports/<int:report_id>/decision",
    methods=("POST",),
    summary="Decide a report: hide the target, ban its user, or dismiss (admins; audited)",
    body=DecisionIn,
    response=AuditEntryOut,
    errors=(400, 403, 404, 409),
)
def decide(report_id: int, body: DecisionIn) -> AuditEntryOut:
    admin = services.require_admin(require_user())
    report = services.access_report(db.session, report_id)
    entry = services.do_decide(db.session, report, admin, body.decision, body.reason, utcnow())
    db.session.commit()
    return entry_out(entry)


@endpoint(
    bp,
    "/admin/audit",
    summary="The moderation audit log, newest first (admins)",
    response=AuditLog,
    errors=(403,),
)
def audit() -> AuditLog:
    services.require_admin(require_user())
    return AuditLog(items=[entry_out(e) for e in services.audit_log(db.session)])

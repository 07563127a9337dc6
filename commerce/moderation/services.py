"""Report use cases: file a report (a video, comment, review, user or room), review the
queue, decide (hide, ban, dismiss), audit.

Every decision writes one audit entry in the same transaction as its effect, so the log and
what happened cannot disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.bans import LOGIN, POST, AccountBan
from commerce.accounts.models import User
from commerce.comments import services as comments
from commerce.comments.models import Comment
from commerce.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from commerce.live import rules as live_rules
from commerce.live import services as live
from commerce.locking import lock_row
from commerce.moderation import rules
from commerce.moderation.models import ModerationAction, Report
from commerce.moderation.schemas import ReportIn
from commerce.reviews import services as reviews
from commerce.reviews.models import Review
from commerce.videos.access import can_view
from commerce.videos.models import Video

REPORTS_PER_HOUR = 30


def require_admin(user: User) -> User:
    if not user.is_admin:
        raise Forbidden(_("Only platform admins can review reports."))
    return user


def _target_owner(session: Session, reporter: User, data: ReportIn) -> tuple[str, int]:
    """The target's key as stored and the user whose content it is; a 404 for what the
    reporter cannot see."""
    key = data.target_id
    if data.target_type == rules.VIDEO:
        video = session.scalar(select(Video).where(Video.public_id == key))
        if video is None or not can_view(video, reporter):
            raise NotFound(_("This video does not exist or is not published."))
        return video.public_id, video.creator_id
    if data.target_type == rules.ROOM:
        room = live.access_room(session, key)
        return room.public_id, room.creator_id
    if not key.isdigit() or int(key) > 2**31 - 1:
        raise NotFound(_("Nothing to report by that id."))
    if data.target_type == rules.COMMENT:
        comment = comments.access_comment(session, int(key), reporter)
        return str(comment.id), comment.author_id
    if data.target_type == rules.REVIEW:
        review = reviews.access_review(session, int(key))
        return str(review.id), review.author_id
    user = session.get(User, int(key))
    if user is None:
        raise NotFound(_("This user does not exist."))
    return str(user.id), user.id


def do_report(session: Session, reporter: User, data: ReportIn, now: datetime) -> Report:
    key, owner = _target_owner(session, reporter, data)
    if owner == reporter.id:
        raise ValidationFailed(_("You cannot report yourself or your own content."))
    recent = session.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.reporter_id == reporter.id, Report.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= REPORTS_PER_HOUR:
        raise RateLimited(_("You have sent many reports: try again in an hour."), retry_after=3600)
    report = Report(
        reporter_id=reporter.id,
        target_type=data.target_type,
        target_key=key,
        target_user_id=owner,
        reason=data.reason,
        text=data.text,
        created_at=now,
    )
    try:
        with session.begin_nested():  # the partial unique index refuses a racing twin too
            session.add(report)
    except IntegrityError as exc:
        raise Conflict(
            _("You have already reported this; an admin will look at it."), code="duplicate"
        ) from exc
    return report


def queue(session: Session, state: str, limit: int = 100) -> list[Report]:
    """Open reports oldest first (first come, first served); closed ones newest first."""
    order = (
        (Report.created_at, Report.id)
        if state == rules.OPEN
        else (Report.resolved_at.desc(), Report.id.desc())
    )
    return list(
        session.scalars(select(Report).where(Report.state == state).order_by(*order).limit(limit))
    )


def access_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(_("This report does not exist."))
    return report


def _hide(session: Session, report: Report, admin: User, now: datetime) -> None:
    if report.target_type == rules.VIDEO:
        video = session.scalar(select(Video).where(Video.public_id == report.target_key))
        if video is not None:
            video.published_at = None  # back to a draft only its creator sees
    elif report.target_type == rules.COMMENT:
        comment = session.get(Comment, int(report.target_key))
        if comment is not None:
            comments.do_hide_comment(session, comment, admin, now)
    elif report.target_type == rules.REVIEW:
        review = session.get(Review, int(report.target_key))
        if review is not None:
            reviews.do_hide_review(session, review, admin, now)
    elif report.target_type == rules.ROOM:
        room = live.access_room(session, report.target_key)
        if room.state != live_rules.ENDED:
            live.do_end_room(session, room, now)


def _ban(session: Session, report: Report, admin: User, kind: str, reason: str, now: datetime):
    user = session.get(User, report.target_user_id) if report.target_user_id else None
    if user is None:
        raise NotFound(_("This user does not exist."))
    if user.is_admin:
        raise Forbidden(_("An admin cannot be banned from this console."))
    ban = session.get(AccountBan, user.id)
    if ban is None:
        session.add(AccountBan(user_id=user.id, kind=kind, reason=reason, by_id=admin.id))
    elif ban.kind != LOGIN:  # never weaken a login ban into a posting ban
        ban.kind, ban.reason, ban.by_id, ban.created_at = kind, reason, admin.id, now
    if kind == LOGIN:
        user.end_sessions()  # signed out everywhere, now


def do_decide(
    session: Session, report: Report, admin: User, decision: str, reason: str, now: datetime
) -> ModerationAction:
    require_admin(admin)
    locked = lock_row(session, Report, report.id)
    assert locked is not None
    if locked.state != rules.OPEN:
        raise Conflict(_("This report was already decided."), code="decided")
    if decision not in rules.allowed_decisions(locked.target_type):
        raise ValidationFailed(_("That decision does not apply to this kind of report."))
    if decision == rules.HIDE:
        _hide(session, locked, admin, now)
    elif decision in (rules.BAN_LOGIN, rules.BAN_POST):
        kind = LOGIN if decision == rules.BAN_LOGIN else POST
        _ban(session, locked, admin, kind, reason, now)
    state = rules.resolution(decision)
    # A decision on the target settles every open report about it, not only this one.
    session.execute(
        update(Report)
        .where(
            Report.state == rules.OPEN,
            Report.target_type == locked.target_type,
            Report.target_key == locked.target_key,
        )
        .values(state=state, resolved_at=now, resolved_by_id=admin.id)
        .execution_options(synchronize_session=False)
    )
    entry = ModerationAction(
        actor_id=admin.id,
        action=rules.audit_action(decision, locked.target_type),
        target_type=locked.target_type,
        target_key=locked.target_key,
        report_id=locked.id,
        reason=reason,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    session.refresh(locked)
    return entry


def audit_log(session: Session, limit: int = 100) -> list[ModerationAction]:
    return list(
        session.scalars(
            select(ModerationAction)
            .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
            .limit(limit)
        )
    )

"""Notification pages: the inbox, its read state, settings with consent, e-mail unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_user
from commerce.accounts.models import User
from commerce.errors import DomainError
from commerce.extensions import csrf, db
from commerce.notifications import rules, services
from commerce.notifications.email import read_unsubscribe_token
from commerce.notifications.present import (
    CHANNEL_LABELS,
    TYPE_LABELS,
    consent_wording,
    notification_text,
    preference_rows,
    target_url,
)
from commerce.timeutil import utcnow

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 30


@bp.get("/inbox")
@login_required
def inbox() -> str:
    user = require_user()
    rows, next_cursor = services.inbox_page(
        db.session, user, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE
    )
    items = [
        {
            "id": n.id,
            "type": e.type,
            "text": notification_text(e, actor),
            "url": url_for("notifications.open_item", notification_id=n.id),
            "created_at": n.created_at,
            "read": n.read_at is not None,
            "actor": actor,
        }
        for n, e, actor in rows
    ]
    return render_template(
        "notifications/inbox.html",
        items=items,
        next_cursor=next_cursor,
        unread=services.unread_count(db.session, user.id),
    )


@bp.get("/inbox/<int:notification_id>/open")
@login_required
def open_item(notification_id: int) -> Response:
    """Following a notification marks it read and leads to what it is about."""
    user = require_user()
    notification = services.access_notification(db.session, user, notification_id)
    services.do_mark_read(db.session, user, notification, utcnow())
    db.session.commit()
    _n, event, _actor = services.inbox_row(db.session, notification)
    return redirect(target_url(event))


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    user = require_user()
    notification = services.access_notification(db.session, user, notification_id)
    services.do_mark_read(db.session, user, notification, utcnow())
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


@bp.post("/inbox/read-all")
@login_required
def mark_all_read() -> Response:
    services.do_mark_all_read(db.session, require_user(), utcnow())
    db.session.commit()
    flash(_("All notifications marked read."))
    return redirect(url_for("notifications.inbox"))


@bp.route("/me/notifications", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    user = require_user()
    error: DomainError | None = None
    if request.method == "POST":
        changes = [
            (kind, channel, request.form.get(f"{kind}.{channel}") == "on")
            for kind in rules.TYPES
            for channel in rules.CHANNELS
        ]
        had = services.active_consent(db.session, user.id) is not None
        wants = request.form.get("email_consent") == "on"
        consent = True if wants and not had else (False if had and not wants else None)
        try:
            services.do_set_preferences(
                db.session, user, changes, now=utcnow(), consent=consent, method="settings_page"
            )
            db.session.commit()
            flash(_("Notification settings saved."))
            return redirect(url_for("notifications.settings"))
        except DomainError as exc:
            db.session.rollback()
            error = exc
    chosen = services.chosen_preferences(db.session, user.id)
    return render_template(
        "notifications/settings.html",
        rows=preference_rows(chosen),
        channels=[(ch, CHANNEL_LABELS[ch]) for ch in rules.CHANNELS],
        consent=services.active_consent(db.session, user.id),
        wording=consent_wording(user.email),
        wording_version=rules.CONSENT_WORDING_VERSION,
        error=error,
    ), (error.status if error else 200)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """GET asks (link scanners open links); POST unsubscribes, with or without the form's
    button: mail clients POST `List-Unsubscribe=One-Click` here with no cookie (RFC 8058)."""
    found = read_unsubscribe_token(_secret(), token)
    if found is None:
        abort(404)
    user_id, kind = found
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    done = request.method == "POST"
    if done:
        services.do_unsubscribe(db.session, user_id, kind, utcnow())
        db.session.commit()
    return render_template(
        "notifications/unsubscribe.html",
        token=token,
        type_label=TYPE_LABELS[kind],
        address=user.email,
        done=done,
    )


csrf.exempt(unsubscribe)  # the signed token is the authority; mail clients send no CSRF token


def _secret() -> str:
    from flask import current_app

    return str(current_app.config["SECRET_KEY"])


def init_app(app: Flask) -> None:
    def inbox_unread() -> str:
        user = current_user()
        if user is None:
            return ""
        return rules.unread_label(services.unread_count(db.session, user.id))

    app.jinja_env.globals["inbox_unread"] = inbox_unread

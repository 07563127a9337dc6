"""Notifications JSON API: your inbox, unread count, read state, and preferences with consent."""

from __future__ import annotations

from flask import Blueprint

from commerce.accounts.auth import require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.notifications import rules, services
from commerce.notifications.present import consent_wording, notification_out
from commerce.notifications.schemas import (
    ConsentOut,
    MarkedOut,
    NotificationOut,
    NotificationPage,
    NotificationsQuery,
    PreferenceItem,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)
from commerce.timeutil import utcnow

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1/me/notifications")


@endpoint(
    bp,
    "",
    summary="Your notifications, newest first (keyset pages)",
    query=NotificationsQuery,
    response=NotificationPage,
)
def list_notifications(query: NotificationsQuery) -> NotificationPage:
    user = require_user()
    rows, cursor = services.inbox_page(
        db.session, user, cursor=query.cursor, limit=query.limit, unread_only=query.unread
    )
    return NotificationPage(
        items=[notification_out(row) for row in rows],
        next_cursor=cursor,
        unread=services.unread_count(db.session, user.id),
    )


@endpoint(bp, "/unread", summary="How many notifications you have not read", response=UnreadOut)
def unread() -> UnreadOut:
    count = services.unread_count(db.session, require_user().id)
    return UnreadOut(unread=count, label=rules.unread_label(count))


@endpoint(
    bp,
    "/<int:notification_id>/read",
    methods=("POST",),
    summary="Mark one notification read (again: nothing changes)",
    response=NotificationOut,
    errors=(404,),
)
def mark_read(notification_id: int) -> NotificationOut:
    user = require_user()
    notification = services.access_notification(db.session, user, notification_id)
    services.do_mark_read(db.session, user, notification, utcnow())
    db.session.commit()
    return notification_out(services.inbox_row(db.session, notification))


@endpoint(
    bp,
    "/read-all",
    methods=("POST",),
    summary="Mark all your notifications read",
    response=MarkedOut,
)
def mark_all_read() -> MarkedOut:
    user = require_user()
    marked = services.do_mark_all_read(db.session, user, utcnow())
    db.session.commit()
    return MarkedOut(marked=marked, unread=0)


def preferences_out(user_id: int, address: str) -> PreferencesOut:
    grid = rules.preference_grid(services.chosen_preferences(db.session, user_id))
    consent = services.active_consent(db.session, user_id)
    return PreferencesOut(
        items=[
            PreferenceItem(type=kind, channel=channel, enabled=on)  # type: ignore[arg-type]
            for kind, channels in grid.items()
            for channel, on in channels.items()
        ],
        email_consent=ConsentOut(
            granted_at=consent.granted_at,
            wording_version=consent.wording_version,
            method=consent.method,
            address=consent.address,
        )
        if consent
        else None,
        consent_wording_version=rules.CONSENT_WORDING_VERSION,
        consent_wording=consent_wording(address),
    )


@endpoint(
    bp,
    "/preferences",
    summary="Your notification settings per type and channel, and your e-mail consent",
    response=PreferencesOut,
)
def get_preferences() -> PreferencesOut:
    user = require_user()
    return preferences_out(user.id, user.email)


@endpoint(
    bp,
    "/preferences",
    methods=("PUT",),
    summary="Change notification settings; e-mail needs email_consent=true once (recorded)",
    body=PreferencesIn,
    response=PreferencesOut,
)
def put_preferences(body: PreferencesIn) -> PreferencesOut:
    user = require_user()
    services.do_set_preferences(
        db.session,
        user,
        [(item.type, item.channel, item.enabled) for item in body.items],
        now=utcnow(),
        consent=body.email_consent,
        method="api",
    )
    db.session.commit()
    return preferences_out(user.id, user.email)

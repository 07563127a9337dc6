"""The e-mail channel: a job per e-mail, sent through SMTP in the recipient's language, each with
a one-click unsubscribe (RFC 8058) holding a signed token for (user, type)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from commerce.accounts.models import User
from commerce.jobs.registry import DEFAULT, job_handler
from commerce.notifications import rules, services
from commerce.notifications.models import Notification, NotificationEvent
from commerce.notifications.present import TYPE_LABELS, notification_text, target_url

log = logging.getLogger(__name__)
SALT = "notifications.unsubscribe"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def unsubscribe_token(secret: str, user_id: int, kind: str) -> str:
    return _serializer(secret).dumps([user_id, kind])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    """(user id, type) from a token we signed; None for anything else."""
    try:
        user_id, kind = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or kind not in rules.TYPES:
        return None
    return user_id, kind


def mail_enabled(config: Any) -> bool:
    return bool(config.get("MAIL_SERVER"))


def build_message(
    config: Any, user: User, event: NotificationEvent, actor: User | None
) -> EmailMessage:
    """The e-mail in the recipient's language, built on PUBLIC_URL (inside a request context)."""
    token = unsubscribe_token(config["SECRET_KEY"], user.id, event.type)
    from flask import url_for

    unsubscribe = url_for("notifications.unsubscribe", token=token, _external=True)
    with force_locale(user.locale or config.get("BABEL_DEFAULT_LOCALE", "en")):
        text = notification_text(event, actor)
        body = render_template(
            "notifications/email.txt",
            text=text,
            link=target_url(event, external=True),
            unsubscribe=unsubscribe,
            type_label=str(TYPE_LABELS[event.type]),
            settings=url_for("notifications.settings", _external=True),
        )
        subject = _("LiveShop: %(text)s", text=text)
    message = EmailMessage()
    message["Subject"] = subject[:200]
    message["From"] = config["MAIL_FROM"]
    message["To"] = user.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="liveshop")
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    return message


def send(config: Any, message: EmailMessage) -> None:
    with smtplib.SMTP(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT_SECONDS"]
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _gave_up(_session: Any, payload: dict[str, Any], error: str) -> None:
    log.error("notification e-mail %s not sent after all retries: %s", payload, error)


@job_handler(services.EMAIL_JOB, queue=DEFAULT, priority=1, on_failure=_gave_up)
def send_notification_email(payload: dict[str, Any], ctx: Any) -> None:
    """Checked again at send time: an unsubscribe or withdrawn consent since the fan-out wins.
    An SMTP error raises, and the job is retried with backoff."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if not mail_enabled(config):
        return
    session = ctx.session
    notification = session.get(Notification, int(payload["notification_id"]))
    if notification is None:
        return
    event = session.get(NotificationEvent, notification.event_id)
    user = session.get(User, notification.recipient_id)
    if event is None or user is None:
        return
    allowed = rules.email_allowed(
        event.type,
        services.chosen_preferences(session, user.id),
        consented=services.active_consent(session, user.id) is not None,
        has_address=bool(user.email),
    )
    if not allowed:
        return
    actor = session.get(User, event.actor_id) if event.actor_id else None
    base = config.get("PUBLIC_URL") or "http://localhost"
    with app.test_request_context("/", base_url=base):
        message = build_message(config, user, event, actor)
    send(config, message)

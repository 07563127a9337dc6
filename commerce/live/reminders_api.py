"""Remind me: the JSON endpoints, the room page's form, and its template helper."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, url_for
from flask_babel import gettext as _
from pydantic import Field
from werkzeug.wrappers import Response

from commerce.accounts.auth import current_user, login_required, require_user
from commerce.apispec import endpoint
from commerce.extensions import db
from commerce.live import reminders, rules, services
from commerce.live.models import LiveRoom
from commerce.timeutil import utcnow
from commerce.validation import Schema

bp = Blueprint("live_reminders_api", __name__, url_prefix="/api/v1/live")
pages = Blueprint("live_reminders", __name__)


class ReminderOut(Schema):
    reminded: bool = Field(description="Whether you will be told when this room starts.")
    reminder_count: int


def _out(room: LiveRoom, reminded: bool) -> ReminderOut:
    return ReminderOut(
        reminded=reminded, reminder_count=reminders.reminder_count(db.session, room.id)
    )


@endpoint(
    bp,
    "/rooms/<room_id>/reminder",
    methods=("PUT",),
    summary="Remind me when this scheduled room starts (asking again changes nothing)",
    response=ReminderOut,
    errors=(404, 409),
)
def remind(room_id: str) -> ReminderOut:
    user = require_user()
    room = services.access_room(db.session, room_id)
    reminders.do_remind(db.session, room, user, utcnow())
    db.session.commit()
    return _out(room, True)


@endpoint(
    bp,
    "/rooms/<room_id>/reminder",
    methods=("DELETE",),
    summary="Do not remind me of this room",
    response=ReminderOut,
    errors=(404,),
)
def forget(room_id: str) -> ReminderOut:
    user = require_user()
    room = services.access_room(db.session, room_id)
    reminders.do_forget(db.session, room, user)
    db.session.commit()
    return _out(room, False)


@pages.post("/live/<public_id>/remind")
@login_required
def remind_form(public_id: str) -> Response:
    """The room page's button: a plain form, so it works before any script loads."""
    user = require_user()
    room = services.access_room(db.session, public_id)
    if reminders.is_reminded(db.session, room.id, user):
        reminders.do_forget(db.session, room, user)
        flash(_("You will not be reminded of this live."))
    else:
        reminders.do_remind(db.session, room, user, utcnow())
        flash(_("We will tell you when this live starts."))
    db.session.commit()
    return redirect(url_for("live.room_page", public_id=room.public_id))


def init_app(app: Flask) -> None:
    def room_reminder(room: LiveRoom) -> dict[str, Any]:
        return {
            "shown": room.state == rules.SCHEDULED,
            "reminded": reminders.is_reminded(db.session, room.id, current_user()),
            "count": reminders.reminder_count(db.session, room.id),
        }

    app.jinja_env.globals["room_reminder"] = room_reminder

"""Going live with its notice: the room starts and its audience's notification is queued in the
same transaction (kept beside services.py so that module does not grow)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.live import services
from commerce.live.models import LiveRoom
from commerce.live.reminders import notify_go_live


def do_go_live(session: Session, room: LiveRoom, now: datetime) -> LiveRoom:
    """Every way a room goes live (the button, the host's socket, the stream starting) comes
    here; the fan-out runs on the job queue after commit, never in the request."""
    services.do_go_live(session, room, now)
    notify_go_live(session, room, now)
    return room

"""Socket.IO of the group page: a viewer joins the group's room to hear `group.updated` (seats
taken, paid, released; the group filled or expired) and gets the group as it is now.

Who may join: whoever may see the page (services.access_group), signed in or not.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room, leave_room

from commerce.accounts.auth import session_user
from commerce.extensions import db
from commerce.groupbuy import services
from commerce.groupbuy.broadcast import channel
from commerce.groupbuy.present import group_out
from commerce.groupbuy.schemas import GroupRef
from commerce.live.events import live_event  # the app's Socket.IO wrapper: parse, ack, commit
from commerce.timeutil import utcnow


@live_event("group.join", GroupRef)
def on_join(data: GroupRef) -> dict[str, Any]:
    """Join, then the snapshot: an event sent between the page's load and the join is in it."""
    group = services.access_group(db.session, data.group, session_user())
    join_room(channel(group.public_id))
    return {"group": group_out(db.session, group, utcnow()).model_dump(mode="json")}


@live_event("group.leave", GroupRef)
def on_leave(data: GroupRef) -> dict[str, Any]:
    leave_room(channel(data.group))
    return {}

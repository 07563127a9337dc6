"""The group page live: whoever watches a group hears its seats and state change, after the
commit that changed them (a rolled-back payment or seat says nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.groupbuy.models import Group
from commerce.groupbuy.present import group_out
from commerce.realtime import publish

GROUP_EVENT = "group.updated"


def channel(public_id: str) -> str:
    """The Socket.IO room of one group's page (joined through `group.join`)."""
    return f"group:{public_id}"


def publish_group(session: Session, group: Group, now: datetime) -> None:
    """Queue the group as it stands in this transaction: members, seats left, state, and the
    seconds left on the server's clock; a page applies the last it hears."""
    session.flush()
    session.refresh(group)
    payload = group_out(session, group, now).model_dump(mode="json")
    publish(session, GROUP_EVENT, payload, room=channel(group.public_id))

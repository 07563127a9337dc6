"""Notifications' listeners on lower areas' signals (social never imports notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.notifications import rules
from commerce.notifications.services import do_notify
from commerce.social.services import followed


def tell_new_follower(
    follower: User, *, session: Session, followee: User, now: datetime, **_: Any
) -> None:
    """Once per (follower, followee) ever: follow, unfollow, follow again tells nobody twice."""
    do_notify(
        session,
        kind=rules.FOLLOWER,
        event_key=f"follow:{follower.id}:{followee.id}",
        now=now,
        actor_id=follower.id,
        users=[followee.id],
        params={"endpoint": "videos.creator_page", "args": {"user_id": follower.id}},
    )


def init_app(app: Flask) -> None:
    followed.connect(tell_new_follower)

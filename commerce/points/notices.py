"""People are told when held points are credited: one notice per credit run and person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from commerce.notifications import rules as notify_rules
from commerce.notifications.services import do_notify


def points_ready(
    session: Session, user_id: int, amount: int, first_hold_id: int, now: datetime
) -> None:
    """`amount` points (every hold of this person credited in one run) are ready to use.

    Keyed by the run's first hold: a hold is credited once ever, so its id names this credit
    and nothing else; a repeated or racing run credits nothing and tells nobody.
    """
    do_notify(
        session,
        kind=notify_rules.POINTS,
        event_key=f"points:ready:{user_id}:{first_hold_id}",
        now=now,
        users=[user_id],
        params={"amount": amount, "endpoint": "points.my_points", "args": {}},
    )

"""Fan-out on the job queue: an event's audience is told in steps of rules.BATCH_SIZE recipients,
one INSERT ... SELECT per step, each step queuing the next in its own transaction.

A step that fails and runs again inserts nothing twice (unique (recipient, event)) and tells
only the recipients it really inserted. Higher areas add audiences (a live room's reminders)
with `audience_source`; this module never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select, union
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.jobs.registry import DEFAULT, enqueue, job_handler
from commerce.notifications import rules, services
from commerce.notifications.models import NotificationEvent
from commerce.social.models import Follow
from commerce.timeutil import utcnow

# name -> fn(arg) returning a one-column SELECT of user ids (labelled "uid")
AUDIENCES: dict[str, Callable[[int], Select[Any]]] = {}


def audience_source(name: str) -> Callable[[Callable[[int], Select[Any]]], Any]:
    """Register who a named audience is (e.g. "live.reminders": the room's reminded users)."""

    def decorator(fn: Callable[[int], Select[Any]]) -> Callable[[int], Select[Any]]:
        AUDIENCES[name] = fn
        return fn

    return decorator


def _parts(audience: dict[str, Any], after: int, limit: int) -> list[Select[Any]]:
    """Each source's next `limit` user ids above `after`, in id order (index range scans)."""
    parts: list[Select[Any]] = []
    if audience.get("followers_of") is not None:
        parts.append(
            select(Follow.follower_id.label("uid"))
            .where(Follow.followee_id == int(audience["followers_of"]), Follow.follower_id > after)
            .order_by(Follow.follower_id)
            .limit(limit)
        )
    if audience.get("users"):
        listed = [u for u in audience["users"] if u > after][:limit]
        if listed:
            parts.append(select(User.id.label("uid")).where(User.id.in_(listed)))
    if audience.get("source"):
        source = AUDIENCES[str(audience["source"])](int(audience.get("source_arg") or 0))
        sub = source.subquery()
        parts.append(select(sub.c.uid).where(sub.c.uid > after).order_by(sub.c.uid).limit(limit))
    return parts


def has_audience(session: Session, audience: dict[str, Any]) -> bool:
    """Whether anyone at all would be told (no job is queued for an empty audience)."""
    return any(session.scalar(select(exists(part.subquery()))) for part in _parts(audience, 0, 1))


def next_batch(session: Session, event: NotificationEvent, after: int) -> list[int]:
    """The next candidates in id order, once each whatever number of sources name them."""
    parts = _parts(event.audience, after, rules.BATCH_SIZE)
    if not parts:
        return []
    merged = union(*[select(p.subquery().c.uid) for p in parts]).subquery()
    query = select(merged.c.uid).order_by(merged.c.uid).limit(rules.BATCH_SIZE)
    return [int(uid) for uid in session.scalars(query)]


def do_fan_out_step(session: Session, event_id: int, after: int, now: datetime) -> int | None:
    """Tell the next batch; returns the cursor of the step to queue next, None when done."""
    event = session.get(NotificationEvent, event_id)
    if event is None:
        return None
    batch = next_batch(session, event, after)
    if not batch:
        event.fanned_out_at = now
        session.flush()
        return None
    services.do_tell(session, event, [uid for uid in batch if uid != event.actor_id], now)
    if len(batch) < rules.BATCH_SIZE:
        event.fanned_out_at = now
        session.flush()
        return None
    return batch[-1]


@job_handler(services.FANOUT_JOB, queue=DEFAULT, priority=3)
def fan_out(payload: dict[str, Any], ctx: Any) -> None:
    """One step; the next is queued in the same transaction, so a crash repeats only this one."""
    session = ctx.session
    cursor = do_fan_out_step(session, int(payload["event_id"]), int(payload["after"]), utcnow())
    if cursor is not None:
        enqueue(
            session,
            services.FANOUT_JOB,
            {"event_id": int(payload["event_id"]), "after": cursor},
            max_attempts=5,
        )

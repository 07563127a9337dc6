"""Notification use cases: record an event (its fan-out is queued), the inbox, read state,
preferences and e-mail consent. They flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from commerce.accounts.models import User
from commerce.errors import NotFound, ValidationFailed
from commerce.jobs.registry import enqueue
from commerce.locking import lock_key
from commerce.notifications import rules
from commerce.notifications.models import (
    EmailConsent,
    Notification,
    NotificationEvent,
    NotificationPreference,
)
from commerce.pagination import decode_cursor, encode_cursor
from commerce.realtime import after_commit, user_room

FANOUT_JOB = "notifications.fanout"
EMAIL_JOB = "notifications.email"
UNREAD_EVENT = "notifications.unread"
SMALL_AUDIENCE = 50  # listed recipients told in the transaction itself; more go to the queue


def _insert_ignore(session: Session, model: type[Any]) -> Any:
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def do_notify(
    session: Session,
    *,
    kind: str,
    event_key: str,
    now: datetime,
    actor_id: int | None = None,
    params: dict[str, Any] | None = None,
    users: Iterable[int] = (),
    followers_of: int | None = None,
    source: str | None = None,
    source_arg: int | None = None,
) -> int | None:
    """Record that something happened and queue telling its audience, in the caller's
    transaction. The same event_key again does nothing (None): retries tell nobody twice."""
    if kind not in rules.TYPES:
        raise ValueError(f"unknown notification type {kind!r}")
    audience: dict[str, Any] = {}
    listed = sorted({int(u) for u in users if u is not None and u != actor_id})
    if listed:
        audience["users"] = listed
    if followers_of is not None:
        audience["followers_of"] = followers_of
    if source is not None:
        audience["source"], audience["source_arg"] = source, source_arg
    if not audience:
        return None
    stmt = (
        _insert_ignore(session, NotificationEvent)
        .values(
            event_key=event_key[:120],
            type=kind,
            actor_id=actor_id,
            audience=audience,
            params=params or {},
            to_followers=followers_of is not None,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(NotificationEvent.__table__.c.id)
    )
    from commerce.notifications.fanout import has_audience

    if "users" not in audience and not has_audience(session, audience):
        return None  # nobody follows or asked: no event, no job
    event_id = session.execute(stmt).scalar()
    if event_id is None:
        return None
    if set(audience) == {"users"} and len(listed) <= SMALL_AUDIENCE:
        # A few named people (the buyer, the person answered): their rows are written in this
        # transaction; only a following or a room's reminders are fanned out on the queue.
        event = session.get(NotificationEvent, event_id)
        assert event is not None
        do_tell(session, event, listed, now)
        event.fanned_out_at = now
        return int(event_id)
    enqueue(session, FANOUT_JOB, {"event_id": event_id, "after": 0}, max_attempts=5)
    return int(event_id)


def do_tell(session: Session, event: NotificationEvent, user_ids: list[int], now: datetime) -> None:
    """Store the event for these users (one INSERT ... SELECT; nobody twice; not who switched
    the type off in the app), queue the e-mails of who opted in, and after commit send each
    their unread count."""
    if not user_ids:
        return
    switched_off = exists().where(
        NotificationPreference.user_id == User.id,
        NotificationPreference.type == event.type,
        NotificationPreference.channel == rules.IN_APP,
        NotificationPreference.enabled.is_(False),
    )
    chosen = select(User.id, literal(event.id), literal(now)).where(
        User.id.in_(user_ids), ~switched_off
    )
    table = Notification.__table__
    stmt = (
        _insert_ignore(session, Notification)
        .from_select(["recipient_id", "event_id", "created_at"], chosen)
        .on_conflict_do_nothing()
        .returning(table.c.recipient_id, table.c.id)
    )
    ids = {int(r): int(n) for r, n in session.execute(stmt)}
    for recipient in sorted(email_recipients(session, event.type, list(ids))):
        enqueue(session, EMAIL_JOB, {"notification_id": ids[recipient]}, max_attempts=6)
    latest = {uid: {"id": nid, "type": event.type} for uid, nid in ids.items()}
    publish_unread(session, unread_counts(session, list(ids)), latest)


def email_recipients(session: Session, kind: str, user_ids: list[int]) -> set[int]:
    """Who of these opted in to this type by e-mail and has a consent on record."""
    if not user_ids:
        return set()
    consented = exists().where(
        EmailConsent.user_id == NotificationPreference.user_id,
        EmailConsent.withdrawn_at.is_(None),
    )
    return set(
        session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(user_ids),
                NotificationPreference.type == kind,
                NotificationPreference.channel == rules.EMAIL,
                NotificationPreference.enabled.is_(True),
                consented,
            )
        )
    )


def last_told_followers(session: Session, actor_id: int, kind: str) -> datetime | None:
    """When followers were last told of this actor's event of this kind (the rate limit's input)."""
    return session.scalar(
        select(func.max(NotificationEvent.created_at)).where(
            NotificationEvent.actor_id == actor_id,
            NotificationEvent.type == kind,
            NotificationEvent.to_followers.is_(True),
        )
    )


def lock_actor(session: Session, actor_id: int, kind: str) -> None:
    """Serialise deciding the rate limit for one actor (two rooms going live at once)."""
    lock_key(session, NotificationEvent, f"notify:{kind}:{actor_id}")


# The inbox ---------------------------------------------------------------------------------------


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count()).where(
        Notification.recipient_id == user_id, Notification.read_at.is_(None)
    )
    return session.scalar(query.select_from(Notification)) or 0


def unread_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    """Unread counts of many users in one query (a fan-out step's recipients)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(Notification.recipient_id, func.count())
        .where(Notification.recipient_id.in_(user_ids), Notification.read_at.is_(None))
        .group_by(Notification.recipient_id)
    )
    return {int(uid): int(n) for uid, n in rows}


def publish_unread(
    session: Session, counts: dict[int, int], extra: dict[int, Any] | None = None
) -> None:
    """After commit, each user's browsers get their unread count (and what is new, if any)."""
    from commerce.extensions import socketio

    def send() -> None:
        for uid, count in counts.items():
            payload = {"unread": count, "label": rules.unread_label(count)}
            if extra and uid in extra:
                payload["latest"] = extra[uid]
            socketio.emit(UNREAD_EVENT, payload, to=user_room(uid))

    if counts:
        after_commit(session, send)


InboxRow = tuple[Notification, NotificationEvent, User | None]


def inbox_page(
    session: Session, user: User, *, cursor: str | None, limit: int, unread_only: bool = False
) -> tuple[list[InboxRow], str | None]:
    """The user's notifications, newest first, by keyset on (created_at, id)."""
    query = (
        select(Notification, NotificationEvent, User)
        .join(NotificationEvent, NotificationEvent.id == Notification.event_id)
        .outerjoin(User, User.id == NotificationEvent.actor_id)
        .where(Notification.recipient_id == user.id)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                Notification.created_at < stamp,
                and_(Notification.created_at == stamp, Notification.id < ident),
            )
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows: list[InboxRow] = [(n, e, a) for n, e, a in session.execute(query.limit(limit + 1))]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(last.created_at, last.id)
    return rows[:limit], next_cursor


def access_notification(session: Session, user: User, notification_id: int) -> Notification:
    found = session.get(Notification, notification_id)
    if found is None or found.recipient_id != user.id:
        raise NotFound(_l("This notification does not exist."))
    return found


def inbox_row(session: Session, notification: Notification) -> InboxRow:
    event = session.get(NotificationEvent, notification.event_id)
    assert event is not None
    actor = session.get(User, event.actor_id) if event.actor_id else None
    return notification, event, actor


def do_mark_read(session: Session, user: User, notification: Notification, now: datetime) -> bool:
    """Mark one read (again: nothing changes); the user's badges follow after commit."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = cast(CursorResult[Any], result).rowcount
    session.refresh(notification)
    publish_unread(session, {user.id: unread_count(session, user.id)})
    return bool(changed)


def do_mark_all_read(session: Session, user: User, now: datetime) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = cast(CursorResult[Any], result).rowcount
    publish_unread(session, {user.id: 0})
    return int(changed or 0)


# Preferences and consent -----------------------------------------------------------------------


def chosen_preferences(session: Session, user_id: int) -> dict[tuple[str, str], bool]:
    rows = session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    return {(p.type, p.channel): p.enabled for p in rows}


def active_consent(session: Session, user_id: int) -> EmailConsent | None:
    return session.scalar(
        select(EmailConsent)
        .where(EmailConsent.user_id == user_id, EmailConsent.withdrawn_at.is_(None))
        .order_by(EmailConsent.granted_at.desc(), EmailConsent.id.desc())
        .limit(1)
    )


def _set(session: Session, user_id: int, kind: str, channel: str, on: bool, now: datetime) -> None:
    stmt = _insert_ignore(session, NotificationPreference).values(
        user_id=user_id, type=kind, channel=channel, enabled=on, updated_at=now
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "type", "channel"],
            set_={"enabled": on, "updated_at": now},
        )
    )


def do_set_preferences(
    session: Session,
    user: User,
    changes: Iterable[tuple[str, str, bool]],
    *,
    now: datetime,
    consent: bool | None = None,
    method: str = "settings_page",
) -> None:
    """Apply (type, channel, enabled) choices. consent=True records a consent to the wording in
    force (when none is active); consent=False withdraws it and switches every e-mail off.
    Switching an e-mail type on needs a consent, given now or before."""
    wanted = list(changes)
    for kind, channel, _on in wanted:
        try:
            rules.check_preference(kind, channel)
        except rules.UnknownPreference as exc:
            raise ValidationFailed(
                _l("There is no such notification setting."), fields={"items": str(exc)}
            ) from exc
    lock_key(session, EmailConsent, f"consent:{user.id}")
    current = active_consent(session, user.id)
    if consent is True and current is None:
        current = EmailConsent(
            user_id=user.id,
            address=user.email,
            wording_version=rules.CONSENT_WORDING_VERSION,
            method=method if method in rules.CONSENT_METHODS else "api",
            granted_at=now,
        )
        session.add(current)
    elif consent is False:
        if current is not None:
            current.withdrawn_at = now
        current = None
        wanted = [(k, c, on) for k, c, on in wanted if c != rules.EMAIL]
        wanted += [(kind, rules.EMAIL, False) for kind in rules.TYPES]
    if current is None and any(c == rules.EMAIL and on for _k, c, on in wanted):
        raise ValidationFailed(
            _l("Agree to receive e-mail first: tick the consent box."),
            code="consent_required",
            fields={"email_consent": _l("Required to switch e-mail on.")},
        )
    for kind, channel, on in wanted:
        _set(session, user.id, kind, channel, on, now)
    session.flush()


def do_unsubscribe(session: Session, user_id: int, kind: str, now: datetime) -> None:
    """One type's e-mail off (the unsubscribe link): no login, the signed token is the proof."""
    rules.check_preference(kind, rules.EMAIL)
    _set(session, user_id, kind, rules.EMAIL, False, now)
    session.flush()

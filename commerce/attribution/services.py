"""Share use cases: create a share (a child of the one you arrived through), record, claim clicks.

Nothing here reads the request: the entry points pass the actor, the visitor id, hashes and `now`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.accounts.models import RateEvent, User
from commerce.accounts.services import count_recent
from commerce.attribution.fraud import BANNED_SHARER
from commerce.attribution.links import Target, find_target
from commerce.attribution.models import TARGET_KINDS, FraudFlag, Share, ShareClick
from commerce.errors import Forbidden, NotFound, RateLimited, ValidationFailed

SHARE_WINDOW = timedelta(hours=1)
CLICK_WINDOW = timedelta(minutes=10)


def ban_subject(user_id: int) -> str:
    return f"user:{user_id}"


def is_banned(session: Session, user_id: int) -> bool:
    return (
        session.scalar(
            select(FraudFlag.id).where(
                FraudFlag.kind == BANNED_SHARER, FraudFlag.subject == ban_subject(user_id)
            )
        )
        is not None
    )


def access_target(session: Session, kind: str, key: str) -> Target:
    if kind not in TARGET_KINDS:
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"target_kind": _("Choose video, product or live.")},
        )
    target = find_target(session, kind, key)
    if target is None:
        raise NotFound(_("There is nothing to share here: it does not exist or is not public."))
    return target


def check_share_rate(session: Session, *, client: str, now: datetime, limit: int) -> None:
    """Shares per network per hour are capped: each one is a row and a QR code."""
    bucket = f"share:{client}"
    if count_recent(session, bucket, now - SHARE_WINDOW) >= limit:
        raise RateLimited(_("Too many share links from your network. Try again later."))
    session.add(RateEvent(bucket=bucket, at=now))


def click_rate_exceeded(session: Session, *, ip_hash: str, now: datetime, limit: int) -> bool:
    """Clicks from one network in 10 minutes beyond `limit` are not recorded (click flooding)."""
    recent = session.scalar(
        select(func.count())
        .select_from(ShareClick)
        .where(ShareClick.ip_hash == ip_hash, ShareClick.at >= now - CLICK_WINDOW)
    )
    return (recent or 0) >= limit


def arrival_share(
    session: Session,
    *,
    user_id: int,
    visitor_id: str | None,
    kind: str,
    key: str,
    now: datetime,
    window_days: int,
) -> Share | None:
    """The share this person last arrived through on this target, within the window, not theirs."""
    who = ShareClick.user_id == user_id
    if visitor_id:
        who = who | (ShareClick.visitor_id == visitor_id)
    return session.scalar(
        select(Share)
        .join(ShareClick, ShareClick.share_id == Share.id)
        .where(
            who,
            Share.target_kind == kind,
            Share.target_key == key,
            Share.sharer_id != user_id,
            ShareClick.at > now - timedelta(days=window_days),
            ShareClick.at <= now,
        )
        .order_by(ShareClick.at.desc(), ShareClick.id.desc())
        .limit(1)
    )


def _existing_share(
    session: Session, sharer_id: int, kind: str, key: str, parent_id: int | None
) -> Share | None:
    parent = Share.parent_id.is_(None) if parent_id is None else Share.parent_id == parent_id
    return session.scalar(
        select(Share).where(
            Share.sharer_id == sharer_id,
            Share.target_kind == kind,
            Share.target_key == key,
            parent,
        )
    )


def do_create_share(
    session: Session,
    sharer: User,
    *,
    kind: str,
    key: str,
    visitor_id: str | None,
    now: datetime,
    window_days: int,
) -> Share:
    """A share of a target; its parent is the share the sharer arrived through (the chain).

    The same person sharing the same target from the same parent gets the same share back.
    Sharing is open to every account and earns nothing by itself: only sales are rewarded.
    """
    if is_banned(session, sharer.id):
        raise Forbidden(_("Your account can no longer create share links."), code="banned")
    access_target(session, kind, key)
    parent = arrival_share(
        session,
        user_id=sharer.id,
        visitor_id=visitor_id,
        kind=kind,
        key=key,
        now=now,
        window_days=window_days,
    )
    parent_id = parent.id if parent is not None else None
    existing = _existing_share(session, sharer.id, kind, key, parent_id)
    if existing is not None:
        return existing
    share = Share(
        sharer_id=sharer.id,
        parent_id=parent_id,
        root_id=(parent.root_id or parent.id) if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
        target_kind=kind,
        target_key=key,
        device_id=visitor_id,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a double-clicked button races itself
            session.add(share)
    except IntegrityError:
        raced = _existing_share(session, sharer.id, kind, key, parent_id)
        if raced is None:
            raise
        return raced
    return share


def access_share(session: Session, share_id: int) -> Share:
    share = session.get(Share, share_id)
    if share is None:
        raise NotFound(_("This share link does not exist."))
    return share


def access_own_share(session: Session, share_id: int, user: User) -> Share:
    share = session.get(Share, share_id)
    if share is None or share.sharer_id != user.id:
        raise NotFound(_("This share link does not exist."))
    return share


def do_record_click(
    session: Session,
    share: Share,
    *,
    visitor_id: str,
    user: User | None,
    ip_hash: str,
    user_agent_hash: str,
    ad_click_id: bool,
    now: datetime,
) -> ShareClick:
    click = ShareClick(
        share_id=share.id,
        visitor_id=visitor_id,
        user_id=user.id if user is not None else None,
        ip_hash=ip_hash,
        user_agent_hash=user_agent_hash,
        ad_click_id=ad_click_id,
        at=now,
    )
    session.add(click)
    session.flush()
    return click


def do_claim_clicks(session: Session, user: User, visitor_id: str | None) -> int:
    """On sign-up and login: this browser's anonymous clicks become the account's.

    That is what carries a referral through registration, and across devices afterwards.
    """
    if not visitor_id:
        return 0
    result = session.execute(
        update(ShareClick)
        .where(ShareClick.visitor_id == visitor_id, ShareClick.user_id.is_(None))
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)

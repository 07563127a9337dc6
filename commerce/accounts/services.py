"""Account use cases: sign up, log in (throttled), edit the profile."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import IO

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from commerce.accounts.bans import may_log_in
from commerce.accounts.models import RateEvent, User
from commerce.accounts.rules import ZERO, LoginThrottle, account_wait, address_wait, whole_seconds
from commerce.accounts.schemas import LoginIn, ProfileIn, SignupIn
from commerce.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from commerce.files.services import store_image
from commerce.locking import lock_key
from media.storage import Storage

# Sent with `session=` after a sign-up (and `new_account=True`) or a good login, before the
# commit; later areas listen (attribution claims the browser's share clicks, invites records an
# invitation) without accounts importing them.
signed_in = Namespace().signal("signed-in")


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


SIGNUP_WINDOW = timedelta(hours=1)


def count_recent(session: Session, bucket: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count()).where(RateEvent.bucket == bucket, RateEvent.at >= since)
        )
        or 0
    )


def check_signup_rate(session: Session, *, client: str, now: datetime, limit: int) -> None:
    """Sign-ups per client per hour are capped: accounts are cheap to make in bulk."""
    bucket = f"signup:{client}"
    if count_recent(session, bucket, now - SIGNUP_WINDOW) >= limit:
        raise RateLimited(_("Too many new accounts from your network. Try again later."))
    session.add(RateEvent(bucket=bucket, at=now))


def do_signup(session: Session, data: SignupIn) -> User:
    email = data.email.lower()
    if find_user_by_email(session, email) is not None:
        raise Conflict(_("An account with this email already exists."), code="email_taken")
    user = User(email=email, display_name=data.display_name, bio="")
    user.set_password(data.password)
    session.add(user)
    session.flush()
    signed_in.send(user, session=session, new_account=True)
    return user


def _failures(session: Session, bucket: str, since: datetime) -> list[datetime]:
    query = select(RateEvent.at).where(RateEvent.bucket == bucket, RateEvent.at >= since)
    return list(session.scalars(query))


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def do_login(
    session: Session, data: LoginIn, *, client: str, now: datetime, rules: LoginThrottle
) -> User:
    """Check credentials under the throttle (accounts/rules.py); failures are recorded."""
    email = data.email.strip().lower()
    account_bucket, address_bucket = f"email:{email}", f"client:{client}"
    # Racing guesses at one account (or from one address) are judged one after the other, so
    # the free failures are spent once, not once per racer.
    for bucket in (account_bucket, address_bucket):  # always this order: no deadlock
        lock_key(session, RateEvent, f"login:{bucket}")
    forget = max(SIGNUP_WINDOW, rules.forget_after)
    session.execute(delete(RateEvent).where(RateEvent.at < now - forget))
    account = account_wait(
        _failures(session, account_bucket, now - rules.account_window), now, rules
    )
    if account > ZERO:
        seconds = whole_seconds(account)
        raise RateLimited(
            _(
                "Too many failed logins for this account. Try again in %(minutes)d min.",
                minutes=_minutes(seconds),
            ),
            code="account_throttled",
            retry_after=seconds,
        )
    user = find_user_by_email(session, email)
    if user is not None and user.check_password(data.password):
        if not may_log_in(session, user.id):
            # Only after the password: a suspension is not told to whoever guesses an e-mail.
            raise Forbidden(_("This account has been suspended."), code="suspended")
        session.execute(delete(RateEvent).where(RateEvent.bucket == account_bucket))
        signed_in.send(user, session=session)
        return user
    address = address_wait(
        _failures(session, address_bucket, now - rules.address_window), now, rules
    )
    session.add_all(RateEvent(bucket=b, at=now) for b in (account_bucket, address_bucket))
    if address > ZERO:
        seconds = whole_seconds(address)
        raise RateLimited(
            _(
                "Wrong email or password. Too many failed logins from your network: "
                "try again in %(minutes)d min.",
                minutes=_minutes(seconds),
            ),
            code="address_throttled",
            retry_after=seconds,
        )
    raise ValidationFailed(_("Wrong email or password."), code="bad_credentials")


def do_update_profile(user: User, data: ProfileIn) -> User:
    user.display_name = data.display_name
    user.bio = data.bio
    user.is_creator = data.is_creator
    user.is_merchant = data.is_merchant
    user.locale = data.locale
    return user


def do_set_avatar(session: Session, backend: Storage, user: User, stream: IO[bytes]) -> str | None:
    """Store the new avatar; returns the old one's key, to delete once this is committed."""
    old = user.avatar
    user.avatar = store_image(session, backend, stream, prefix="avatars/", max_side=256)
    if old is None:
        return None
    session.delete(old)
    return old.key

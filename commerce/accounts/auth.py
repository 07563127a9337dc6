"""Who is signed in: the session holds the user id and the user's session version.

Logging out bumps the version, so a session cookie captured before (a stolen or copied one) no
longer signs anyone in, whichever process or node reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for
from flask_babel import gettext as _

from commerce.accounts.models import User
from commerce.errors import Forbidden, NotAuthenticated, wants_json
from commerce.extensions import db


def session_user() -> User | None:
    """The user this session cookie signs in, if it is still valid (also for Socket.IO)."""
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    if user is not None and session.get("session_version", 0) != user.session_version:
        return None
    return user


def load_user() -> None:
    g.user = session_user()
    if g.user is None and "user_id" in session:
        session.pop("user_id")  # a signed-out cookie: forget it


def current_user() -> User | None:
    return g.get("user")


def require_user() -> User:
    user = current_user()
    if user is None:
        raise NotAuthenticated(_("Please log in first."))
    return user


def require_creator() -> User:
    user = require_user()
    if not user.is_creator:
        raise Forbidden(_("Turn on creator mode in your profile to use the studio."))
    return user


def require_merchant() -> User:
    user = require_user()
    if not user.is_merchant:
        raise Forbidden(_("Turn on merchant mode in your profile to sell products."))
    return user


def sign_in(user: User) -> None:
    # A fresh session on login defeats session fixation; keep the pending referral, if any, and
    # messages flashed while signing in (an invitation's welcome coupon).
    keep = {k: session[k] for k in ("referral", "_flashes") if k in session}
    session.clear()
    session.update(keep)
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    session.permanent = True


def sign_out() -> None:
    """End this session and every other one of the same user (the caller commits)."""
    user = current_user()
    if user is not None:
        user.end_sessions()
    session.clear()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """For HTML pages: send anonymous visitors to the login page and back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None and not wants_json():
            return redirect(url_for("accounts.login", next=request.full_path))
        require_user()
        return view(*args, **kwargs)

    return wrapper

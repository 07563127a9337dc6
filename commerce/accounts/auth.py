"""Who is signed in: the session holds only the user id."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for
from flask_babel import gettext as _

from commerce.accounts.models import User
from commerce.errors import Forbidden, NotAuthenticated, wants_json
from commerce.extensions import db


def load_user() -> None:
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id else None


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
    # A fresh session on login defeats session fixation; keep the pending referral, if any.
    keep = {k: session[k] for k in ("referral",) if k in session}
    session.clear()
    session.update(keep)
    session["user_id"] = user.id
    session.permanent = True


def sign_out() -> None:
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

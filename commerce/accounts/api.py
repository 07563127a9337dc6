"""Accounts JSON API."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from commerce.accounts import services
from commerce.accounts.auth import require_user, sign_in, sign_out
from commerce.accounts.present import me_out, user_out
from commerce.accounts.rules import LoginThrottle
from commerce.accounts.schemas import CsrfOut, LoginIn, MeOut, ProfileIn, SignupIn, UserOut
from commerce.apispec import endpoint
from commerce.errors import DomainError, NotFound, ValidationFailed
from commerce.extensions import db
from commerce.files.services import storage
from commerce.timeutil import utcnow

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


def client_key() -> str:
    """The client's address, as seen through TRUSTED_PROXIES proxies (ProxyFix in app.py)."""
    return request.remote_addr or "unknown"


@endpoint(
    bp,
    "/auth/csrf",
    summary="A CSRF token for the X-CSRFToken header",
    response=CsrfOut,
    auth=False,
)
def csrf_token() -> CsrfOut:
    return CsrfOut(csrf_token=generate_csrf())


@endpoint(
    bp,
    "/auth/signup",
    methods=("POST",),
    summary="Create an account and sign in",
    body=SignupIn,
    response=MeOut,
    status=201,
    auth=False,
    errors=(409, 429),
)
def signup(body: SignupIn) -> MeOut:
    services.check_signup_rate(
        db.session, client=client_key(), now=utcnow(), limit=current_app.config["SIGNUP_RATE_LIMIT"]
    )
    user = services.do_signup(db.session, body)
    db.session.commit()
    sign_in(user)
    return me_out(user)


@endpoint(
    bp,
    "/auth/login",
    methods=("POST",),
    summary="Sign in (403 for a suspended account)",
    body=LoginIn,
    response=MeOut,
    auth=False,
    errors=(403, 429),
)
def login(body: LoginIn) -> MeOut:
    try:
        user = services.do_login(
            db.session,
            body,
            client=client_key(),
            now=utcnow(),
            rules=LoginThrottle.from_config(current_app.config),
        )
    except DomainError:
        db.session.commit()  # failed attempts count toward the throttle
        raise
    db.session.commit()
    sign_in(user)
    return me_out(user)


@endpoint(bp, "/auth/logout", methods=("POST",), summary="Sign out", status=204, auth=False)
def logout() -> Response:
    sign_out()
    db.session.commit()
    return Response(status=204)


@endpoint(bp, "/me", summary="The signed-in account", response=MeOut)
def me() -> MeOut:
    return me_out(require_user())


@endpoint(
    bp,
    "/me",
    methods=("PUT",),
    summary="Edit your profile; turn creator/merchant on",
    body=ProfileIn,
    response=MeOut,
)
def update_me(body: ProfileIn) -> MeOut:
    user = services.do_update_profile(require_user(), body)
    db.session.commit()
    return me_out(user)


@endpoint(
    bp,
    "/me/avatar",
    methods=("POST",),
    summary="Upload an avatar (multipart 'avatar')",
    response=MeOut,
    raw_body="multipart/form-data",
)
def upload_avatar() -> MeOut:
    user = require_user()
    upload = request.files.get("avatar")
    if upload is None:
        raise ValidationFailed(_("Choose an image."), fields={"avatar": _("Required.")})
    old_key = services.do_set_avatar(db.session, storage(), user, upload.stream)
    db.session.commit()
    if old_key:
        storage().delete(old_key)
    return me_out(user)


@endpoint(
    bp,
    "/users/<int:user_id>",
    summary="A public profile",
    response=UserOut,
    auth=False,
    errors=(404,),
)
def get_user(user_id: int) -> UserOut:
    user = db.session.get(services.User, user_id)
    if user is None:
        raise NotFound(_("This account does not exist."))
    return user_out(user)

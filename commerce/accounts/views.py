"""Account pages: sign up, log in, log out, profile, language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from commerce.accounts import services
from commerce.accounts.api import client_key
from commerce.accounts.auth import current_user, login_required, require_user, sign_in, sign_out
from commerce.accounts.rules import LoginThrottle
from commerce.accounts.schemas import LoginIn, ProfileIn, SignupIn
from commerce.apispec import parse
from commerce.errors import DomainError, ValidationFailed, retry_headers
from commerce.extensions import db
from commerce.files.services import storage
from commerce.security_rules import safe_path
from commerce.timeutil import utcnow

bp = Blueprint("accounts", __name__)


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    form = request.form
    if request.method == "POST":
        try:
            services.check_signup_rate(
                db.session,
                client=client_key(),
                now=utcnow(),
                limit=current_app.config["SIGNUP_RATE_LIMIT"],
            )
            user = services.do_signup(db.session, parse(SignupIn, form.to_dict()))  # type: ignore[arg-type]
        except DomainError as error:
            return render_template("accounts/signup.html", form=form, error=error), error.status
        db.session.commit()
        sign_in(user)
        flash(_("Welcome, %(name)s!", name=user.display_name))
        return redirect(safe_path(request.args.get("next"), url_for("videos.feed_page")))
    return render_template("accounts/signup.html", form=form, error=None)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int, dict[str, str]]:
    form = request.form
    if request.method == "POST":
        try:
            user = services.do_login(
                db.session,
                parse(LoginIn, form.to_dict()),  # type: ignore[arg-type]
                client=client_key(),
                now=utcnow(),
                rules=LoginThrottle.from_config(current_app.config),
            )
        except DomainError as error:
            db.session.commit()  # failed attempts count toward the throttle
            page = render_template("accounts/login.html", form=form, error=error)
            return page, error.status, retry_headers(error)
        db.session.commit()
        sign_in(user)
        return redirect(safe_path(request.args.get("next"), url_for("videos.feed_page")))
    return render_template("accounts/login.html", form=form, error=None)


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    db.session.commit()
    return redirect(url_for("videos.feed_page"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response:
    user = require_user()
    if request.method == "POST":
        form = request.form
        try:
            data = parse(ProfileIn, form.to_dict())
            services.do_update_profile(user, data)  # type: ignore[arg-type]
        except DomainError as error:
            return render_template("accounts/profile.html", user=user, error=error), error.status
        db.session.commit()
        flash(_("Profile saved."))
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", user=user, error=None)


@bp.post("/profile/avatar")
@login_required
def avatar() -> str | Response:
    user = require_user()
    upload = request.files.get("avatar")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(_("Choose an image."))
        old_key = services.do_set_avatar(db.session, storage(), user, upload.stream)
    except DomainError as error:
        return render_template("accounts/profile.html", user=user, error=error), error.status
    db.session.commit()
    if old_key:
        storage().delete(old_key)
    flash(_("Avatar updated."))
    return redirect(url_for("accounts.profile"))


@bp.get("/me")
def me() -> str:
    """The phone's "Me" tab: everything that is not a main tab, by role; log in or sign up."""
    return render_template("accounts/me.html", user=current_user())


@bp.get("/create")
def create() -> str | Response:
    """The "Create" tab: a creator's upload, or how to become one."""
    user = current_user()
    if user is not None and user.is_creator:
        return redirect(url_for("videos.studio") + "#upload")
    return render_template("accounts/create.html", user=user)


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    response = redirect(safe_path(request.args.get("next"), url_for("videos.feed_page")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response

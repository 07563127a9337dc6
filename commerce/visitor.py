"""Each browser gets a random visitor id (cookie `vid`): clicks, orders and shares carry it.

It is what lets a referral survive sign-up and login, and what the fraud checks compare as the
"device". It is random, not derived from anything personal; IPs and user agents are only ever
stored hashed with the app's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import Flask, Response, current_app, g, request

COOKIE = "vid"
MAX_AGE_SECONDS = 400 * 24 * 3600  # browsers cap cookie lifetime at 400 days
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def current_visitor_id() -> str | None:
    """The browser's visitor id (issued on this request if it had none); None outside requests."""
    if not request:
        return None
    issued = g.get("visitor_id_issued")
    if issued:
        return str(issued)
    value = request.cookies.get(COOKIE, "")
    return value if _VALID.match(value) else None


def _ensure_visitor_cookie(response: Response) -> Response:
    if current_visitor_id() is None and request.method in {"GET", "HEAD"}:
        g.visitor_id_issued = secrets.token_urlsafe(16)
    issued = g.get("visitor_id_issued")
    if issued:
        response.set_cookie(
            COOKIE,
            issued,
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def issue_visitor_id() -> str:
    """Give this request a visitor id now (a share click needs one before its redirect)."""
    existing = current_visitor_id()
    if existing:
        return existing
    g.visitor_id_issued = secrets.token_urlsafe(16)
    return str(g.visitor_id_issued)


def keyed_hash(value: str) -> str:
    """HMAC of a personal value with the app's secret: comparable, not reversible."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def hash_ip(ip: str | None) -> str:
    return keyed_hash("ip:" + (ip or ""))


def hash_user_agent(user_agent: str | None) -> str:
    return keyed_hash("ua:" + (user_agent or ""))


def init_app(app: Flask) -> None:
    app.after_request(_ensure_visitor_cookie)

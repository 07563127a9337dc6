"""Web security on every request: response headers (CSP with a nonce), and Origin checks.

The CSRF extension (commerce.extensions.csrf) is an OriginCheckingCSRF: a state-changing request
that passed the CSRF token check is refused when its Origin header names another site. Requests
without Origin are judged by the token alone, plus Flask-WTF's Referer check over HTTPS.
Views exempt from CSRF (signed payment webhooks) are not checked.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_wtf import CSRFProtect
from werkzeug.wrappers import Response

from commerce.errors import Forbidden
from commerce.security_rules import content_security_policy, origin_of, same_origin

HSTS = "max-age=31536000; includeSubDomains"


class OriginCheckingCSRF(CSRFProtect):
    """CSRF tokens, and a foreign Origin refused even with a valid token."""

    def protect(self, apply_exemptions: bool = False) -> None:
        super().protect(apply_exemptions=apply_exemptions)
        if g.get("csrf_valid"):
            check_origin()


def check_origin() -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return
    trusted = current_app.config.get("TRUSTED_ORIGINS", ())
    if not same_origin(origin, scheme=request.scheme, host=request.host, trusted=trusted):
        raise Forbidden(
            _("This request came from another website and was refused."), code="cross_origin"
        )


def csp_nonce() -> str:
    """This request's script nonce (templates: <script nonce="{{ csp_nonce() }}">)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


def forbid_framing() -> None:
    """This response may not be framed at all, not even by our own pages (a tap to confirm)."""
    g.frame_ancestors = "'none'"


def _media_origins(app: Flask) -> list[str]:
    """Browsers fetch stored files from the CDN when one is set; S3 is read only by the app."""
    origin = origin_of(app.config.get("CDN_BASE_URL"))
    return [origin] if origin else []


def init_app(app: Flask) -> None:
    media_origins = _media_origins(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(
                csp_nonce(),
                host=request.host,
                media_origins=media_origins,
                frame_ancestors=g.get("frame_ancestors", "'self'"),
            ),
        )
        if g.get("frame_ancestors") == "'none'":
            headers.setdefault("X-Frame-Options", "DENY")  # browsers without CSP level 2
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce

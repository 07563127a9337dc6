"""Domain errors, and the one place that turns them into HTTP responses."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from media.diskspace import is_out_of_space


class DomainError(Exception):
    """A use case refused: carries an HTTP status, a machine code and a message, translated or
    lazy (a use case names it with lazy_gettext; it is translated when the response is made)."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str | LazyString, *, code: str | None = None, fields: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class NotAuthenticated(DomainError):
    status = 401
    code = "login_required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class RateLimited(DomainError):
    """Refused for now; `retry_after` (whole seconds, when known) becomes Retry-After."""

    status = 429
    code = "rate_limited"

    def __init__(
        self,
        message: str | LazyString,
        *,
        code: str | None = None,
        fields: dict | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, code=code, fields=fields)
        self.retry_after = retry_after


def retry_headers(error: DomainError) -> dict[str, str]:
    """Retry-After for a refusal that knows when to come back (also for views that render)."""
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds is not None else {}


class InsufficientStorage(DomainError):
    status = 507
    code = "insufficient_storage"


def out_of_space_message() -> str:
    return _("The server is out of disk space. Please try again later.")


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return body


def _respond(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    if wants_json():
        response = jsonify(error_body(code, message, fields))
    else:
        response = Response(
            render_template("error.html", status=status, message=message, fields=fields or {}),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        fields = {name: str(text) for name, text in error.fields.items()}
        response = _respond(error.status, error.code, str(error.message), fields)
        response.headers.update(retry_headers(error))
        return response

    @app.errorhandler(OSError)
    def handle_os_error(error: OSError) -> Response:
        """A full disk or quota is the server's condition, not a bug: 507 with a message."""
        if not is_out_of_space(error):
            raise error
        return _respond(
            InsufficientStorage.status, InsufficientStorage.code, out_of_space_message()
        )

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError) -> Response:
        return _respond(
            400,
            "csrf",
            _("Your session expired or the form was tampered with: reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        messages = {
            404: _("Not found."),
            405: _("Method not allowed."),
            413: _("The request is too large."),
        }
        status = error.code or 500
        message = messages.get(status, error.description or error.name)
        return _respond(status, error.name.lower().replace(" ", "_"), message)

"""What any request may carry, checked before a view runs: path and query text, JSON, forms."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask import Request as FlaskRequest
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from commerce.errors import ValidationFailed
from commerce.validation import FORBIDDEN_TEXT, INT32_MAX

MAX_PAGE = 10_000


class Request(FlaskRequest):
    """Turns two parser failures into 400s: JSON nested past the recursion limit, nameless parts."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise ValidationFailed(_("The JSON body is nested too deeply.")) from None

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form, files = self.__dict__["form"], self.__dict__["files"]
        if None in form or None in files:  # a multipart part without a name
            self.__dict__["form"] = ImmutableMultiDict(
                [(k, v) for k, v in form.items(multi=True) if k is not None]
            )
            self.__dict__["files"] = ImmutableMultiDict(
                [(k, v) for k, v in files.items(multi=True) if k is not None]
            )
            for upload in files.getlist(None):
                upload.close()
            raise ValidationFailed(_("Every part of a multipart form needs a name."))


class IdConverter(IntegerConverter):
    """`<int:...>` ids live in 32-bit columns: a larger number is a 404 (not a 405 or a 500)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > INT32_MAX:
            raise NotFound()  # werkzeug would try the other rules and could answer 405
        return number


def page_arg() -> int:
    """The ?page= of an HTML listing, from 1 to MAX_PAGE."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def _refuse_forbidden_text() -> None:
    if FORBIDDEN_TEXT.search(request.path):
        raise NotFound()  # no page, id or token has such a character in its name
    if any(FORBIDDEN_TEXT.search(text) for text in [*request.args.keys(), *request.args.values()]):
        raise ValidationFailed(_("The address contains a character that is not allowed."))


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered (their rules use the `int` converter)."""
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_forbidden_text)

"""The base of every API schema: storable integers, clean text, UTC times, and human messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from commerce.money import CURRENCY_EXPONENT

# SQLAlchemy's Integer is 32 bits on PostgreSQL (ids, counts, prices); BigInteger columns are 64.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


FROM_REQUEST = "from_request"  # the validation context key commerce.apispec.parse sets


class _Wide:
    """Marks an integer field stored in a BigInteger column."""


BigInt = Annotated[int, _Wide()]

# Characters no name, title or message needs and that break storage or display: C0/C1 controls
# (NUL is refused by PostgreSQL) except tab and line breaks, lone surrogates, invisible
# zero-width characters, and the bidi embeddings, overrides and isolates that reorder text
# ("Trojan Source"). ZWJ/ZWNJ (emoji sequences, Persian, Indic scripts) and the LRM/RLM marks
# stay allowed: they cannot hide or reorder text.
FORBIDDEN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    "\u200b\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]"
)


def clean_text(value: str) -> str:
    """Refuse text carrying a forbidden character (see FORBIDDEN_TEXT)."""
    if FORBIDDEN_TEXT.search(value):
        raise PydanticCustomError(
            "text_characters",
            "Contains a control, zero-width or text-direction character that is not allowed.",
        )
    return value


def _check(value: Any, low: int, high: int) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value > high:
            raise PydanticCustomError(
                "less_than_equal", "Input should be less than or equal to {le}", {"le": high}
            )
        if value < low:
            raise PydanticCustomError(
                "greater_than_equal", "Input should be greater than or equal to {ge}", {"ge": low}
            )
    elif isinstance(value, str):
        clean_text(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check(item, low, high)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, low, high)
            _check(item, low, high)
    return value


def _range(model: type[BaseModel], name: str | None) -> tuple[int, int]:
    field = model.model_fields.get(name or "")
    wide = field is not None and any(isinstance(m, _Wide) for m in field.metadata)
    return (INT64_MIN, INT64_MAX) if wide else (INT32_MIN, INT32_MAX)


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, list):
        return [_utc(item) for item in value]
    return value


def _bound_integers(node: Any, low: int, high: int) -> None:
    """Write the storable range into every integer of a JSON schema, so clients know it."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node["minimum"] = max(node.get("minimum", low), low)
            node["maximum"] = min(node.get("maximum", high), high)
        for child in node.values():
            _bound_integers(child, low, high)
    elif isinstance(node, list):
        for child in node:
            _bound_integers(child, low, high)


def _json_schema_extra(schema: dict[str, Any], model: type[BaseModel]) -> None:
    for name, prop in schema.get("properties", {}).items():
        _bound_integers(prop, *_range(model, name))


class Schema(BaseModel):
    """Base of what the API accepts and returns.

    What a request carries (validated with the FROM_REQUEST context) has every integer fit its
    column (32 bits; 64 for a field typed BigInt) and every string free of
    FORBIDDEN_TEXT; every naive datetime (the database stores naive UTC) is written as RFC 3339
    with its UTC offset.
    """

    model_config = ConfigDict(json_schema_extra=_json_schema_extra)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        if not (info.context or {}).get(FROM_REQUEST):
            return value  # what the app builds from stored data is never refused on the way out
        return _check(value, *_range(cls, info.field_name))

    @field_serializer("*", mode="wrap", when_used="json")
    def _rfc3339(self, value: Any, handler: Any) -> Any:
        return handler(_utc(value))


def _supported_currency(value: str) -> str:
    upper = value.upper()
    if upper not in CURRENCY_EXPONENT:
        raise PydanticCustomError(
            "currency",
            "Must be one of {choices}.",
            {"choices": ", ".join(sorted(CURRENCY_EXPONENT))},
        )
    return upper


Currency = Annotated[str, AfterValidator(_supported_currency)]


def _messages() -> dict[str, LazyString]:
    """pydantic error types -> messages in the reader's language ({name} from the error's ctx)."""
    return {
        "missing": _l("This field is required."),
        "text_characters": _l(
            "Contains a control, zero-width or text-direction character that is not allowed."
        ),
        "currency": _l("Must be one of %(choices)s."),
        "string_too_short": _l("Must be at least %(min_length)s characters."),
        "string_too_long": _l("Must be at most %(max_length)s characters."),
        "string_type": _l("Must be text."),
        "string_pattern_mismatch": _l("Contains characters that are not allowed here."),
        "too_short": _l("Must have at least %(min_length)s items."),
        "too_long": _l("Must have at most %(max_length)s items."),
        "greater_than": _l("Must be greater than %(gt)s."),
        "greater_than_equal": _l("Must be at least %(ge)s."),
        "less_than": _l("Must be less than %(lt)s."),
        "less_than_equal": _l("Must be at most %(le)s."),
        "int_type": _l("Must be a whole number."),
        "int_parsing": _l("Must be a whole number."),
        "int_from_float": _l("Must be a whole number."),
        "float_type": _l("Must be a number."),
        "float_parsing": _l("Must be a number."),
        "finite_number": _l("Must be a number."),
        "bool_type": _l("Must be true or false."),
        "bool_parsing": _l("Must be true or false."),
        "literal_error": _l("Must be one of %(expected)s."),
        "enum": _l("Must be one of %(expected)s."),
        "datetime_type": _l("Must be a date and time such as 2026-12-04T17:00:00Z."),
        "datetime_parsing": _l("Must be a date and time such as 2026-12-04T17:00:00Z."),
        "datetime_from_date_parsing": _l("Must be a date and time such as 2026-12-04T17:00:00Z."),
        "list_type": _l("Must be a list."),
        "dict_type": _l("Must be an object."),
        "model_type": _l("Must be an object."),
        "model_attributes_type": _l("Must be an object."),
        "extra_forbidden": _l("This field is not accepted."),
    }


def human_message(error: ErrorDetails) -> str:
    """One pydantic error as a sentence in the reader's language."""
    kind = error["type"]
    ctx = dict(error.get("ctx") or {})
    if kind == "value_error":
        if "email" in error["msg"].lower():
            return _("Enter a valid email address.")
        return str(ctx.get("error") or error["msg"])  # our validators' own, translated, messages
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return _("This field cannot be empty.")
    template = _messages().get(kind)
    if template is None:
        return error["msg"]
    try:
        return str(template) % ctx
    except (KeyError, TypeError, ValueError):
        return error["msg"]

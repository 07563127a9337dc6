"""Declarative JSON endpoints: pydantic in and out, and the OpenAPI document generated from them."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from commerce.errors import ValidationFailed
from commerce.validation import FROM_REQUEST, INT32_MAX, Schema, human_message


@dataclass
class ApiOperation:
    """What the OpenAPI generator needs to know about one endpoint."""

    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    raw_body: str | None = None  # a media type for endpoints that read the request stream
    errors: tuple[int, ...] = field(default_factory=tuple)


def _field_errors(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, human_message(item))
    return fields


def parse(model: type[BaseModel], data: Any) -> BaseModel:
    """Validate data into model, turning pydantic's errors into a 400 with per-field messages."""
    try:
        return model.model_validate(data, context={FROM_REQUEST: True})
    except ValidationError as exc:
        raise ValidationFailed(_("Some fields are not valid."), fields=_field_errors(exc)) from exc


def endpoint(
    bp: Blueprint,
    rule: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    raw_body: str | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a JSON endpoint on bp; the view receives parsed `body`/`query` models."""
    for model in (body, query, response):
        # The base checks integers and text, and writes times with their offset.
        assert model is None or issubclass(model, Schema), f"{model} must subclass Schema"
    spec = ApiOperation(summary, bp.name, body, query, response, status, auth, raw_body, errors)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if body is not None:
                payload = request.get_json(silent=True)
                if payload is None:
                    raise ValidationFailed(_("The request body must be a JSON object."))
                kwargs["body"] = parse(body, payload)
            if query is not None:
                kwargs["query"] = parse(query, request.args.to_dict())
            result = view(**kwargs)
            if isinstance(result, BaseModel):
                out = jsonify(result.model_dump(mode="json"))
                out.status_code = status
                return out
            return result

        wrapper.api_operation = spec  # type: ignore[attr-defined]
        bp.add_url_rule(rule, view_func=wrapper, methods=list(methods))
        return wrapper

    return decorator


_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for match in _CONVERTER.finditer(rule):
        if match.group("conv") == "int":  # commerce.inputs.IdConverter
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": INT32_MAX}
        else:
            schema = {"type": "string"}
        params.append(
            {"name": match.group("name"), "in": "path", "required": True, "schema": schema}
        )
    return _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule), params


def build_openapi(app: Flask) -> dict[str, Any]:
    """Walk the URL map and describe every endpoint registered through `endpoint`."""
    operations: list[tuple[str, str, ApiOperation]] = []
    models: set[type[BaseModel]] = set()
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions[rule.endpoint], "api_operation", None)
        if spec is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((rule.rule, method.lower(), spec))
        models.update(m for m in (spec.body, spec.query, spec.response) if m is not None)

    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for rule_text, method, spec in sorted(operations, key=lambda item: (item[0], item[1])):
        path, params = _openapi_path(rule_text)
        op: dict[str, Any] = {
            "summary": spec.summary,
            "tags": [spec.tag],
            "operationId": f"{method}_{path}".replace("/", "_").replace("{", "").replace("}", ""),
            "parameters": list(params),
            "responses": {},
        }
        if spec.query is not None:
            for name, prop in spec.query.model_json_schema().get("properties", {}).items():
                required = name in spec.query.model_json_schema().get("required", [])
                op["parameters"].append(
                    {"name": name, "in": "query", "required": required, "schema": prop}
                )
        if spec.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{spec.body.__name__}"}
                    }
                },
            }
        elif spec.raw_body:
            op["requestBody"] = {"required": True, "content": {spec.raw_body: {"schema": {}}}}
        success: dict[str, Any] = {"description": "OK"}
        if spec.response is not None:
            success["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{spec.response.__name__}"}
                }
            }
        op["responses"][str(spec.status)] = success
        for code in sorted({400, *spec.errors} | ({401} if spec.auth else set())):
            op["responses"][str(code)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if spec.auth:
            op["security"] = [{"session": []}]
        paths.setdefault(path, {})[method] = op
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "LiveShop API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }

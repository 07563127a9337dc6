"""Werkzeug's URL builders made once per run, not once per app (a test builds an app each).

Binding a rule compiles two builder functions from a generated AST (`Rule._compile_builder`):
~0.2 ms each, 65 ms for this app's ~240 rules, more than the rest of `create_app` together and
paid by every test. A builder's code depends only on the rule's parsed parts, its defaults and
its converters' types (it reads the converters through `self` when called), so builders made for
one app serve every later app with the same rules. Tests only: production builds one app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_original = Rule._compile_builder
_made: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _builder_key(rule: Rule, append_unknown: bool) -> tuple[Any, ...]:
    return (
        rule.rule,
        tuple(rule._trace),
        append_unknown,
        tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())),
        tuple(sorted((name, type(conv).__qualname__) for name, conv in rule._converters.items())),
    )


def _compile_builder_once(
    self: Rule, append_unknown: bool = True
) -> Callable[..., tuple[str, str]]:
    key = _builder_key(self, append_unknown)
    builder = _made.get(key)
    if builder is None:
        builder = _made[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    Rule._compile_builder = _compile_builder_once  # type: ignore[method-assign]

"""Table tests of small pure rules."""

from datetime import timedelta

import pytest

from commerce.apispec import _openapi_path
from commerce.i18n import language_for
from commerce.jobs.runner import retry_delay
from commerce.security_rules import safe_path as safe_next


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_language_for(tag, language):
    assert language_for(tag) == language


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/studio", "/studio"),
        ("/v/abc?x=1", "/v/abc?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),  # browsers read a backslash as a slash
        ("/\t/evil.example/", "/"),  # and drop tabs and newlines
        ("javascript:alert(1)", "/"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_safe_next_only_allows_same_site_paths(target, expected):
    assert safe_next(target, "/") == expected


@pytest.mark.parametrize(
    ("rule", "path", "kinds"),
    [
        ("/api/v1/products/<int:product_id>", "/api/v1/products/{product_id}", ["integer"]),
        (
            "/api/v1/videos/<public_id>/pins/<int:pin_id>",
            "/api/v1/videos/{public_id}/pins/{pin_id}",
            ["string", "integer"],
        ),
        ("/api/v1/feed", "/api/v1/feed", []),
    ],
)
def test_openapi_path(rule, path, kinds):
    converted, params = _openapi_path(rule)
    assert converted == path
    assert [p["schema"]["type"] for p in params] == kinds


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 5), (2, 20), (3, 80), (4, 320), (5, 600), (9, 600)]
)
def test_retry_delay_backs_off_and_caps(attempts, seconds):
    assert retry_delay(attempts) == timedelta(seconds=seconds)

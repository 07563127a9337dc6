"""Web security over real HTTP: headers, logout, login throttling, redirects, Origin checks."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests

from commerce.security_rules import content_security_policy, origin_of, safe_path, same_origin
from commerce.validation import FORBIDDEN_TEXT
from tests.commerce.orders.conftest import create_address  # noqa: F401  (fixture)
from tests.conftest import PASSWORD
from tests.live import LiveServer

EVIL = "https://evil.example"


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as live:
        yield live


def csrf(http: requests.Session, url: str) -> str:
    return http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]


# Headers --------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(server):
    for path in ("/", "/login", "/api/v1/feed", "/static/js/api.js", "/no-such-page"):
        response = requests.get(f"{server.url}{path}", timeout=10)
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy, path
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", policy)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_each_response_gets_its_own_nonce(server):
    nonces = set()
    for _ in range(2):
        response = requests.get(f"{server.url}/login", timeout=10)
        nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"])[1]
        nonces.add(nonce)
    assert len(nonces) == 2


def test_forwarded_https_is_ignored_without_a_trusted_proxy(server):
    plain = requests.get(f"{server.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "Strict-Transport-Security" not in plain.headers  # no trusted proxy: header ignored


def test_hsts_over_https_through_one_trusted_proxy(make_app):
    proxied = make_app({"TRUSTED_PROXIES": "1"}, SERVER_NAME=None)
    with LiveServer(proxied) as live:
        response = requests.get(
            f"{live.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=10
        )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_cdn_is_allowed_for_media():
    policy = content_security_policy(
        "n", host="shop.example", media_origins=["https://cdn.example"]
    )
    for directive in ("img-src", "media-src", "connect-src"):
        assert re.search(rf"{directive} [^;]*https://cdn\.example", policy)
    assert "connect-src 'self' ws://shop.example wss://shop.example" in policy
    assert "worker-src 'self' blob:" in policy


def test_the_configured_cdn_is_in_the_policy(make_app):
    with_cdn = make_app(CDN_BASE_URL="https://cdn.example/m")
    policy = with_cdn.test_client().get("/login").headers["Content-Security-Policy"]
    assert re.search(r"media-src 'self' blob: https://cdn\.example;", policy)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://cdn.example/base/", "https://cdn.example"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("/media", None),
        ("", None),
        (None, None),
        ("javascript:alert(1)", None),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


# Open redirects -------------------------------------------------------------------------------

BAD_TARGETS = [
    "/\t/evil.example/",
    "/\r/evil.example/",
    "/\n/evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "evil.example",
    "javascript:alert(1)",
    "/ok\x00",
    "/ok\x7f",
]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/studio", "/studio"),
        ("/v/abc?x=1#t", "/v/abc?x=1#t"),
        ("/search?q=a%2F%2Fb", "/search?q=a%2F%2Fb"),
        (None, "/home"),
        ("", "/home"),
        *[(bad, "/home") for bad in BAD_TARGETS],
    ],
)
def test_safe_path(target, expected):
    assert safe_path(target, "/home") == expected


def test_pay_page_never_returns_off_site(server, create_user, create_product, create_address):  # noqa: F811
    buyer = create_user()
    product = create_product(create_user(merchant=True), price_minor=1000, stock=20)
    address_id = create_address(buyer)
    http = server.login(buyer.email)
    token = csrf(http, server.url)
    for n, bad in enumerate(BAD_TARGETS[:9]):
        order = http.post(
            f"{server.url}/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": 1}], "address_id": address_id},
            headers={"X-CSRFToken": token, "Idempotency-Key": f"order-{n}"},
            timeout=10,
        )
        assert order.status_code == 201, order.text
        order_id = order.json()["orders"][0]["id"]
        payment = http.post(
            f"{server.url}/api/v1/orders/{order_id}/payments",
            json={"return_to": bad},
            headers={"X-CSRFToken": token, "Idempotency-Key": f"pay-{n}"},
            timeout=10,
        )
        assert payment.status_code == 201, payment.text
        pay_url = urljoin(server.url, payment.json()["pay_url"])
        paid = http.post(
            pay_url, data={"csrf_token": token, "card_number": "4242424242424242"}, timeout=10
        )
        assert paid.status_code == 200 and "Payment succeeded" in paid.text
        link = re.search(r'<a class="button" href="([^"]*)"', paid.text)[1]
        assert link == f"/orders/{order_id}", (bad, link)


def test_login_next_never_leads_off_site(server, create_user):
    user = create_user()
    for bad in BAD_TARGETS:
        http = requests.Session()
        page = http.get(f"{server.url}/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        response = http.post(
            f"{server.url}/login",
            params={"next": bad},
            data={"csrf_token": token, "email": user.email, "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        if FORBIDDEN_TEXT.search(bad):
            # NUL and the like never reach the view: the query is refused as a whole.
            assert response.status_code == 400, bad
            assert "Location" not in response.headers
            continue
        assert response.status_code == 302
        assert response.headers["Location"] == "/", bad


# Origin checks --------------------------------------------------------------------------------


def put_profile(server: LiveServer, http: requests.Session, **headers: str) -> requests.Response:
    return http.put(
        f"{server.url}/api/v1/me",
        json={"display_name": "Changed", "bio": "", "is_creator": False, "is_merchant": False},
        headers={"X-CSRFToken": csrf(http, server.url), **headers},
        timeout=10,
    )


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1.evil.example"])
def test_a_foreign_origin_is_refused_even_with_a_valid_token(server, create_user, origin):
    http = server.login(create_user().email)
    response = put_profile(server, http, Origin=origin)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cross_origin"
    assert "another website" in response.json()["error"]["message"]
    zh = put_profile(server, http, Origin=origin, **{"Accept-Language": "zh-CN"})
    assert zh.status_code == 403 and "其他网站" in zh.json()["error"]["message"]


def test_a_foreign_origin_is_refused_on_html_forms(server, create_user):
    http = server.login(create_user().email)
    page = http.get(f"{server.url}/profile", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = http.post(
        f"{server.url}/logout", data={"csrf_token": token}, headers={"Origin": EVIL}, timeout=10
    )
    assert response.status_code == 403 and "another website" in response.text
    assert http.get(f"{server.url}/api/v1/me", timeout=10).status_code == 200  # still signed in


def test_own_origin_trusted_origins_and_no_origin_are_accepted(app, server, create_user):
    http = server.login(create_user().email)
    assert put_profile(server, http, Origin=server.url).status_code == 200
    assert put_profile(server, http).status_code == 200  # no Origin: the token decides
    app.config["TRUSTED_ORIGINS"] = ["https://admin.example"]
    assert put_profile(server, http, Origin="https://admin.example").status_code == 200


def test_signed_webhooks_are_not_origin_checked(app, server):
    import json
    import time

    from commerce.payments.provider import SIGNATURE_HEADER, sign, webhook_secret

    body = json.dumps({"id": "evt_x", "type": "nothing.happened", "data": {}}).encode()
    header = sign(webhook_secret(app.config), int(time.time()), body)
    headers = {SIGNATURE_HEADER: header, "Content-Type": "application/json"}
    plain = requests.post(
        f"{server.url}/api/v1/payments/webhook/sandbox", data=body, headers=headers, timeout=10
    )
    foreign = requests.post(
        f"{server.url}/api/v1/payments/webhook/sandbox",
        data=body,
        headers={**headers, "Origin": EVIL},
        timeout=10,
    )
    assert plain.status_code != 403 and foreign.status_code == plain.status_code


@pytest.mark.parametrize(
    ("origin", "trusted", "ok"),
    [
        ("http://shop.example", (), True),
        ("HTTP://Shop.Example", (), True),
        ("https://shop.example", (), False),  # another scheme is another origin
        ("http://shop.example:8080", (), False),
        ("http://evil.example", (), False),
        ("null", (), False),
        ("", (), False),
        ("https://admin.example", ("https://admin.example",), True),
        ("https://admin.example", ("https://admin.example/",), True),
    ],
)
def test_same_origin(origin, trusted, ok):
    assert same_origin(origin, scheme="http", host="shop.example", trusted=trusted) is ok

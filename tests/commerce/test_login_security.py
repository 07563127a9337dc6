"""Logging out ends the session cookie; login throttling slows attackers without locking out
their neighbours; the client address is read through TRUSTED_PROXIES proxies. Over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from commerce.accounts.rules import LoginThrottle, account_wait, address_wait, whole_seconds
from tests.commerce.orders.test_concurrency import race
from tests.conftest import PASSWORD
from tests.live import LiveServer

T0 = datetime(2026, 1, 1, 12, 0, 0)
RULES = LoginThrottle(
    address_limit=3,
    address_window=timedelta(minutes=15),
    account_free=2,
    account_base=timedelta(seconds=30),
    account_max=timedelta(minutes=5),
    account_window=timedelta(hours=1),
)


def at(*seconds: int) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as live:
        yield live


def login(url: str, email: str, password: str, **headers: str) -> requests.Response:
    http = requests.Session()
    token = http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    return http.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-CSRFToken": token, **headers},
        timeout=10,
    )


# Logout ---------------------------------------------------------------------------------------


def test_an_old_session_cookie_stops_working_after_logout(server, create_user):
    user = create_user()
    http = server.login(user.email)
    old_cookie = http.cookies["session"]
    assert http.get(f"{server.url}/api/v1/me", timeout=10).status_code == 200
    token = http.get(f"{server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    out = http.post(f"{server.url}/api/v1/auth/logout", headers={"X-CSRFToken": token}, timeout=10)
    assert out.status_code == 204

    replay = requests.get(f"{server.url}/api/v1/me", cookies={"session": old_cookie}, timeout=10)
    assert replay.status_code == 401
    page = requests.get(f"{server.url}/orders", cookies={"session": old_cookie}, timeout=10)
    assert "/login" in page.url  # sent to log in, not shown the orders


def test_the_logout_form_also_ends_old_cookies_and_a_new_login_works(server, create_user):
    import re

    user = create_user()
    http = server.login(user.email)
    old_cookie = http.cookies["session"]
    page = http.get(f"{server.url}/profile", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert http.post(f"{server.url}/logout", data={"csrf_token": token}, timeout=10).ok
    replay = requests.get(f"{server.url}/api/v1/me", cookies={"session": old_cookie}, timeout=10)
    assert replay.status_code == 401
    again = server.login(user.email)
    assert again.get(f"{server.url}/api/v1/me", timeout=10).status_code == 200


# The throttle's rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "now", "wait"),
    [
        ([], 0, 0),
        (at(0), 1, 0),  # one failure: free
        (at(0, 10), 10, 30),  # the free failures used: 30 s after the last
        (at(0, 10), 25, 15),
        (at(0, 10), 40, 0),
        (at(0, 10, 40), 40, 60),  # each further failure doubles the wait
        (at(0, 10, 40, 100), 100, 120),
        (at(0, 1, 2, 3, 4, 5, 6, 7), 7, 300),  # capped
        (at(-4000, -3900, -3800), 0, 0),  # older than the window: forgotten
    ],
)
def test_account_wait(failures, now, wait):
    assert account_wait(failures, T0 + timedelta(seconds=now), RULES) == timedelta(seconds=wait)


@pytest.mark.parametrize(("failures", "wait"), [([], 0), (at(0), 60), (at(0, 10), 120)])
def test_account_wait_with_no_free_failures(failures, wait):
    """LOGIN_ACCOUNT_FREE_FAILURES=0: each failure waits; the first attempt does not (a 500)."""
    rules = LoginThrottle(account_free=0, account_base=timedelta(seconds=30))
    now = failures[-1] if failures else T0
    assert account_wait(failures, now, rules) == timedelta(seconds=wait)


@pytest.mark.parametrize(
    ("failures", "now", "wait"),
    [
        ([], 0, 0),
        (at(0, 1), 2, 0),  # under the limit
        (at(0, 1, 2), 2, 898),  # at the limit: until the oldest counted one leaves the window
        (at(0, 1, 2, 3), 100, 801),  # four: until two have left
        (at(0, 1, 2), 900, 0),
        (at(-2000, 1, 2), 3, 0),  # an old failure does not count
    ],
)
def test_address_wait(failures, now, wait):
    assert address_wait(failures, T0 + timedelta(seconds=now), RULES) == timedelta(seconds=wait)


@pytest.mark.parametrize(
    ("seconds", "whole"), [(0, 1), (0.2, 1), (1, 1), (1.5, 2), (30, 30), (899.01, 900)]
)
def test_whole_seconds(seconds, whole):
    assert whole_seconds(timedelta(seconds=seconds)) == whole


# The throttle over HTTP -----------------------------------------------------------------------


def test_an_attacker_behind_a_nat_does_not_lock_out_the_office(app, server, create_user):
    app.config["LOGIN_RATE_LIMIT"] = 5
    victim, colleague = create_user(), create_user()
    for n in range(12):  # guesses at the victim and at made-up accounts, all from 127.0.0.1
        email = victim.email if n % 2 else f"nobody{n}@example.com"
        assert login(server.url, email, "wrong-guess").status_code in {400, 429}
    refused = login(server.url, "nobody99@example.com", "wrong-guess")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "address_throttled"

    ok = login(server.url, colleague.email, PASSWORD)
    assert ok.status_code == 200, ok.text  # the colleague's right password still works
    throttled = login(server.url, victim.email, PASSWORD)
    assert throttled.status_code == 429  # the attacked account waits, whoever asks
    assert throttled.json()["error"]["code"] == "account_throttled"


def test_an_attacked_account_backs_off_exponentially_with_retry_after(app, server, create_user):
    app.config.update(LOGIN_ACCOUNT_FREE_FAILURES=2, LOGIN_BACKOFF_SECONDS=60)
    user = create_user()
    for _ in range(2):
        assert login(server.url, user.email, "wrong-guess").status_code == 400
    first = login(server.url, user.email, PASSWORD)
    assert first.status_code == 429
    assert 55 <= int(first.headers["Retry-After"]) <= 60
    assert "Too many failed logins for this account" in first.json()["error"]["message"]
    zh = login(server.url, user.email, PASSWORD, **{"Accept-Language": "zh-CN"})
    assert zh.status_code == 429 and "登录失败次数过多" in zh.json()["error"]["message"]


def test_the_html_login_form_says_when_to_retry(app, server, create_user):
    import re

    user = create_user()
    app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 1
    http = requests.Session()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', http.get(f"{server.url}/login", timeout=10).text
    )[1]
    form = {"csrf_token": token, "email": user.email, "password": "wrong-guess"}
    assert http.post(f"{server.url}/login", data=form, timeout=10).status_code == 400
    page = http.post(f"{server.url}/login", data={**form, "password": PASSWORD}, timeout=10)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many failed logins for this account" in page.text


def test_forwarded_for_is_ignored_without_trusted_proxies(app, server, create_user):
    app.config["LOGIN_RATE_LIMIT"] = 2
    for n in range(2):
        spoofed = {"X-Forwarded-For": f"10.0.0.{n}"}
        assert login(server.url, f"n{n}@example.com", "x-guess", **spoofed).status_code == 400
    spoofed = {"X-Forwarded-For": "10.0.0.9"}
    assert login(server.url, "n9@example.com", "x-guess", **spoofed).status_code == 429


def test_trusted_proxies_tell_clients_apart(make_app):
    proxied = make_app({"TRUSTED_PROXIES": "1"}, SERVER_NAME=None)
    proxied.config["LOGIN_RATE_LIMIT"] = 2
    with LiveServer(proxied) as live:
        for n in range(2):
            from_a = {"X-Forwarded-For": "203.0.113.7"}
            assert login(live.url, f"a{n}@example.com", "x-guess", **from_a).status_code == 400
        from_a = {"X-Forwarded-For": "203.0.113.7"}
        assert login(live.url, "a9@example.com", "x-guess", **from_a).status_code == 429
        from_b = {"X-Forwarded-For": "198.51.100.1"}
        assert login(live.url, "b@example.com", "x-guess", **from_b).status_code == 400


def test_racing_guesses_at_one_account_get_only_its_free_failures(app, server, create_user):
    """Concurrent wrong passwords: the account's free failures are spent once, not per racer."""
    app.config.update(LOGIN_ACCOUNT_FREE_FAILURES=3, LOGIN_RATE_LIMIT=1000)
    user = create_user()
    codes = sorted(
        r.status_code for r in race([lambda: login(server.url, user.email, "guess")] * 12)
    )
    assert codes == [400] * 3 + [429] * 9, codes

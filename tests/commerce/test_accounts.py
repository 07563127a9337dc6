"""Accounts through the API and the HTML forms: sign-up, login, CSRF, rate limit, profile."""

import io
import re

from sqlalchemy import select

from commerce.accounts.models import User
from commerce.extensions import db
from tests.conftest import PASSWORD, png_bytes


def test_signup_logs_in_and_me_returns_the_account(api):
    response = api.post(
        "/api/v1/auth/signup",
        {"email": "New@Example.com", "password": "long-enough-1", "display_name": "Ann"},
    )
    assert response.status_code == 201
    assert response.get_json()["email"] == "new@example.com"
    me = api.get("/api/v1/me").get_json()
    assert me["display_name"] == "Ann"
    assert me["is_creator"] is False and me["is_merchant"] is False


def test_signup_twice_with_one_email_conflicts(api, create_user):
    create_user(email="taken@example.com")
    response = api.post(
        "/api/v1/auth/signup",
        {"email": "TAKEN@example.com", "password": "long-enough-1", "display_name": "B"},
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "email_taken"


def test_signup_validation_names_the_fields(api):
    response = api.post(
        "/api/v1/auth/signup", {"email": "not-an-email", "password": "short", "display_name": ""}
    )
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert {"email", "password", "display_name"} <= set(fields)


def test_password_is_hashed_with_scrypt_at_sign_up(app, api):
    response = api.post(
        "/api/v1/auth/signup",
        {"email": "hash@example.com", "password": PASSWORD, "display_name": "H"},
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email="hash@example.com")).scalar_one()
        assert user.password_hash.startswith("scrypt:")
        assert PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD)
        assert not user.check_password(PASSWORD + "x")


def test_post_without_csrf_token_is_refused(client):
    response = client.post(
        "/api/v1/auth/signup",
        json={"email": "a@example.com", "password": "long-enough-1", "display_name": "A"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def test_wrong_password_then_rate_limited(app, make_api, create_user):
    user = create_user()
    api = make_api()
    limit = app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
    for _ in range(limit):
        response = api.post("/api/v1/auth/login", {"email": user.email, "password": "nope"})
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_credentials"
    response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_logout_ends_the_session(make_api, create_user):
    api = make_api(create_user())
    assert api.get("/api/v1/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_profile_turns_on_creator_and_merchant(make_api, create_user):
    api = make_api(create_user())
    response = api.put(
        "/api/v1/me",
        {
            "display_name": "Shop Owner",
            "bio": "hi",
            "is_creator": True,
            "is_merchant": True,
            "locale": "zh_Hans",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["is_creator"] and body["is_merchant"] and body["locale"] == "zh_Hans"


def test_avatar_is_validated_by_content_and_reencoded(make_api, create_user):
    api = make_api(create_user())
    fake = api.post(
        "/api/v1/me/avatar",
        data={"avatar": (io.BytesIO(b"<?php echo 1; ?>"), "avatar.png")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400
    assert fake.get_json()["error"]["code"] == "not_an_image"
    real = api.post(
        "/api/v1/me/avatar",
        data={"avatar": (png_bytes((800, 600)), "me.png")},
        content_type="multipart/form-data",
    )
    assert real.status_code == 200
    url = real.get_json()["avatar_url"]
    assert url.endswith(".jpg")
    image = api.get(url)
    assert image.status_code == 200 and image.data[:3] == b"\xff\xd8\xff"


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF field"
    return match.group(1)


def test_html_signup_form_shows_errors_then_signs_up(client):
    page = client.get("/signup").get_data(as_text=True)
    token = _csrf_from(page)
    bad = client.post(
        "/signup", data={"csrf_token": token, "email": "x", "password": "1", "display_name": "Z"}
    )
    assert bad.status_code == 400
    assert "form-error" in bad.get_data(as_text=True)
    good = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "z@example.com",
            "password": "long-enough-1",
            "display_name": "Zed",
        },
    )
    assert good.status_code == 302
    assert "Zed" in client.get("/profile").get_data(as_text=True)


def test_html_form_without_csrf_is_refused(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400


def test_login_redirect_refuses_other_sites(client, create_user):
    user = create_user()
    token = _csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_profile_page_requires_login(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_pages_are_translated_by_accept_language(client):
    zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in zh and "登录" in zh
    assert 'lang="en"' in en and "Log in" in en


def test_language_switch_cookie_wins_over_accept_language(client):
    client.get("/lang/zh_Hans?next=/login")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in page


def test_signups_per_client_are_rate_limited(app, make_api):
    app.config["SIGNUP_RATE_LIMIT"] = 2
    api = make_api()
    for n in range(2):
        body = {"email": f"s{n}@example.com", "password": "long-enough-1", "display_name": "S"}
        assert api.post("/api/v1/auth/signup", body).status_code == 201
        api.post("/api/v1/auth/logout")
        api._token = None
    body = {"email": "s9@example.com", "password": "long-enough-1", "display_name": "S"}
    assert make_api().post("/api/v1/auth/signup", body).status_code == 429

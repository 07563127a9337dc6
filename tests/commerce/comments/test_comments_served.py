"""Comments and reports over real HTTP against the served app, with racing requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import LiveServer


@pytest.fixture
def served(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as server:
        yield server


def _csrf(http, url):
    return http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]


def _session(served, user):
    http = served.login(user.email)
    http.headers["X-CSRFToken"] = _csrf(http, served.url)
    return http


def test_racing_likes_count_once_per_user(served, create_user, create_video):
    video = create_video(create_user(creator=True))
    author = _session(served, create_user())
    made = author.post(
        f"{served.url}/api/v1/videos/{video}/comments", json={"text": "hi"}, timeout=10
    )
    assert made.status_code == 201
    like = f"{served.url}/api/v1/comments/{made.json()['id']}/like"
    fan = _session(served, create_user())
    others = [_session(served, create_user()) for _ in range(5)]
    with ThreadPoolExecutor(8) as pool:
        same = list(pool.map(lambda _: fan.put(like, timeout=30).status_code, range(8)))
        many = list(pool.map(lambda h: h.put(like, timeout=30).status_code, others))
    assert same == [200] * 8 and many == [200] * 5
    page = author.get(f"{served.url}/api/v1/videos/{video}/comments", timeout=10).json()
    assert page["items"][0]["like_count"] == 6


def test_racing_posts_respect_the_rate_limit(served, create_user, create_video):
    video = create_video(create_user(creator=True))
    http = _session(served, create_user())
    url = f"{served.url}/api/v1/videos/{video}/comments"
    with ThreadPoolExecutor(10) as pool:
        codes = list(
            pool.map(
                lambda i: http.post(url, json={"text": f"n{i}"}, timeout=30).status_code, range(10)
            )
        )
    assert sorted(codes) == [201] * 5 + [429] * 5


def test_racing_reports_leave_one_open(served, create_user, create_video):
    video = create_video(create_user(creator=True))
    http = _session(served, create_user())
    body = {"target_type": "video", "target_id": video, "reason": "spam"}
    with ThreadPoolExecutor(6) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    http.post(f"{served.url}/api/v1/reports", json=body, timeout=30).status_code
                ),
                range(6),
            )
        )
    assert sorted(codes) == [201] + [409] * 5


def test_reply_mention_delete_report_hide_over_http(served, create_user, create_video, make_admin):
    creator = create_user(creator=True)
    video = create_video(creator)
    ann, bob = create_user(name="Ann"), create_user(name="Bob")
    url = f"{served.url}/api/v1/videos/{video}/comments"
    top = _session(served, ann).post(url, json={"text": "first"}, timeout=10).json()
    reply = (
        _session(served, bob)
        .post(
            url,
            json={"text": "@Ann hello", "parent_id": top["id"], "mention_ids": [ann.id]},
            timeout=10,
        )
        .json()
    )
    assert reply["segments"][0] == {"text": "@Ann", "user_id": ann.id}
    host = _session(served, creator)
    assert host.delete(f"{served.url}/api/v1/comments/{reply['id']}", timeout=10).status_code == 204
    viewer = _session(served, create_user())
    made = viewer.post(
        f"{served.url}/api/v1/reports",
        json={"target_type": "comment", "target_id": str(top["id"]), "reason": "harassment"},
        timeout=10,
    )
    assert made.status_code == 201
    admin = _session(served, make_admin())
    decided = admin.post(
        f"{served.url}/api/v1/admin/reports/{made.json()['id']}/decision",
        json={"decision": "hide", "reason": "insulting"},
        timeout=10,
    )
    assert decided.status_code == 200
    audit = admin.get(f"{served.url}/api/v1/admin/audit", timeout=10).json()["items"]
    assert audit[0]["action"] == "hide_comment" and audit[0]["reason"] == "insulting"
    states = [c["state"] for c in viewer.get(url, timeout=10).json()["items"]]
    assert states == ["hidden"]

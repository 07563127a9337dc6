"""The social API over real HTTP against the served app: follow, like, the Following tab."""

from __future__ import annotations

import pytest
import requests

from tests.live import LiveServer


@pytest.fixture
def server(app):
    app.config["SERVER_NAME"] = None
    with LiveServer(app) as served:
        yield served


def test_follow_like_and_following_feed_over_http(server, create_user, create_video):
    creator = create_user(creator=True, name="Tea Maker")
    video = create_video(creator, title="Brewing")
    viewer = server.login(create_user().email)
    token = viewer.get(f"{server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    headers = {"X-CSRFToken": token}

    # Without the CSRF header a state change is refused and nothing changes.
    assert (
        viewer.put(f"{server.url}/api/v1/users/{creator.id}/follow", timeout=10).status_code == 400
    )
    followed = viewer.put(
        f"{server.url}/api/v1/users/{creator.id}/follow", headers=headers, timeout=10
    )
    assert followed.json() == {"user_id": creator.id, "following": True, "follower_count": 1}
    liked = viewer.put(f"{server.url}/api/v1/videos/{video}/like", headers=headers, timeout=10)
    assert liked.json()["like_count"] == 1

    page = viewer.get(f"{server.url}/api/v1/feed?tab=following", timeout=10).json()
    assert [v["id"] for v in page["items"]] == [video]
    assert page["items"][0]["liked"] is True and page["items"][0]["creator"]["following"] is True
    html = viewer.get(f"{server.url}/c/{creator.id}", timeout=10).text
    assert "1 follower" in html
    following = viewer.get(f"{server.url}/me/following", timeout=10).text
    assert "Tea Maker" in following

    # Anonymous: the For you tab works, Following asks to log in.
    assert requests.get(f"{server.url}/api/v1/feed?tab=for_you", timeout=10).json()["items"]
    assert requests.get(f"{server.url}/api/v1/feed?tab=following", timeout=10).status_code == 401

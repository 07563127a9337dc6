"""Two real web processes behind the Redis message queue: one viewer on each sees 2 viewers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import select

from commerce.extensions import db
from commerce.live.models import LiveRoom
from tests.conftest import PASSWORD


@pytest.fixture
def web_processes(processes, redis_url) -> Callable[[], str]:
    """Start `flask serve` processes sharing the database and Redis; yields a starter."""
    settings = {
        "REDIS_URL": redis_url,
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "JOBS_MODE": "worker",
        "LIVE_FANOUT_INTERVAL_MS": "100",
        "LIVE_PRESENCE_TTL_SECONDS": "2",
    }
    return lambda: processes.serve(**settings)


def _signed_in(url: str, user: Any) -> requests.Session:
    """A browser session signed in on that process (the cookie works on every process)."""
    browser = requests.Session()
    token = browser.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    response = browser.post(
        f"{url}/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token, "Referer": url},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return browser


def _viewer(
    url: str,
    seen: list[int],
    browser: requests.Session | None = None,
    counters_seen: list[dict[str, Any]] | None = None,
) -> socketio_client.Client:
    client = socketio_client.Client(http_session=browser) if browser else socketio_client.Client()

    @client.on("live.counters")
    def counters(payload: dict[str, Any]) -> None:
        if counters_seen is not None:
            counters_seen.append(payload)
        if "viewers" in payload:
            seen.append(payload["viewers"])

    client.connect(url, transports=["polling"], wait_timeout=10)
    return client


def _wait_for(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_viewer_on_each_process_sees_two_viewers(app, make_room, web_processes):
    _api, room_id = make_room()
    first_url, second_url = web_processes(), web_processes()
    first_seen: list[int] = []
    second_seen: list[int] = []
    first, second = _viewer(first_url, first_seen), _viewer(second_url, second_seen)
    try:
        joined = first.call("live.join", {"room": room_id}, timeout=10)
        assert joined["ok"] and joined["snapshot"]["viewers"] == 1
        # its process counted and published it
        assert _wait_for(lambda: first_seen[-1:] == [1]), (first_seen, second_seen)
        joined = second.call("live.join", {"room": room_id}, timeout=10)
        assert joined["ok"] and joined["snapshot"]["viewers"] == 2, joined  # the other's too
        both_two = _wait_for(lambda: first_seen[-1:] == [2] and second_seen[-1:] == [2])
        assert both_two, (first_seen, second_seen)
        with app.app_context():
            assert _wait_for(lambda: _peak(room_id) == 2)

        second.disconnect()
        assert _wait_for(lambda: first_seen[-1:] == [1]), (first_seen, second_seen)
    finally:
        for client in (first, second):
            if client.connected:
                client.disconnect()
    with app.app_context():
        assert _peak(room_id) == 2


def test_a_ban_on_one_process_takes_the_viewer_out_on_the_other(
    app, make_room, web_processes, host, create_user
):
    _api, room_id = make_room()
    viewer = create_user(name="Viewer")
    first_url, second_url = web_processes(), web_processes()
    host_seen: list[int] = []
    viewer_seen: list[int] = []
    viewer_counters: list[dict[str, Any]] = []
    host_client = _viewer(first_url, host_seen, _signed_in(first_url, host))
    viewer_client = _viewer(
        second_url, viewer_seen, _signed_in(second_url, viewer), viewer_counters
    )
    try:
        assert host_client.call("live.join", {"room": room_id}, timeout=10)["ok"]
        assert viewer_client.call("live.join", {"room": room_id}, timeout=10)["ok"]
        assert _wait_for(lambda: host_seen[-1:] == [2]), (host_seen, viewer_seen)
        ban = host_client.call("live.ban", {"room": room_id, "user_id": viewer.id}, timeout=10)
        assert ban["ok"], ban
        # The second process finds the ban at its tick: the viewer leaves its room and count.
        assert _wait_for(lambda: host_seen[-1:] == [1]), (host_seen, viewer_seen)
        seen_before = len(viewer_counters)
        host_client.call("live.heart", {"room": room_id, "count": 3}, timeout=10)
        time.sleep(1)  # ten ticks: a viewer still in the room would get the hearts
        assert viewer_counters[seen_before:] == [] and host_seen[-1] == 1
    finally:
        for client in (host_client, viewer_client):
            if client.connected:
                client.disconnect()


def _peak(room_id: str) -> int:
    peak = db.session.scalar(select(LiveRoom.peak_viewers).where(LiveRoom.public_id == room_id))
    db.session.rollback()  # see the other processes' next commits
    return int(peak or 0)

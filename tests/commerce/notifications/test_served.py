"""The served app over real HTTP with its in-process job workers and a real SMTP server: a
follower's socket gets the go-live notice, the e-mail arrives with one-click unsubscribe
headers, and POSTing that URL switches the type off. Concurrent Remind-me taps make one row."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
import requests
import socketio as socketio_client

from commerce.extensions import db
from commerce.jobs.runner import in_process_workers, stop_workers
from commerce.live.models import LiveReminder
from tests.live import LiveServer


@pytest.fixture
def served(app, smtp_server):
    inbox, mail = smtp_server
    app.config.update(mail, SERVER_NAME=None)
    workers = [worker.start() for worker in in_process_workers(app, poll_seconds=0.2)]
    try:
        with LiveServer(app) as server:
            app.config["PUBLIC_URL"] = server.url
            yield server, inbox
    finally:
        stop_workers(workers, 10)


def _csrf(http, url):
    return {"X-CSRFToken": http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]}


def test_go_live_reaches_the_socket_and_the_mailbox_and_unsubscribe_works(
    served, create_user, make_room, follow
):
    server, mailbox = served
    creator = create_user(creator=True, name="Tea Maker")
    fan = create_user(email="fan@example.com")
    follow(fan, creator)
    room = make_room(creator, "Oolong night")
    fan_http = server.login(fan.email)
    consent = {
        "items": [{"type": "live", "channel": "email", "enabled": True}],
        "email_consent": True,
    }
    saved = fan_http.put(
        f"{server.url}/api/v1/me/notifications/preferences",
        json=consent,
        headers=_csrf(fan_http, server.url),
        timeout=10,
    )
    assert saved.status_code == 200, saved.text

    got: list[dict] = []
    arrived = threading.Event()
    browser = socketio_client.Client(reconnection=False)

    def on_unread(payload):
        got.append(payload)
        arrived.set()

    browser.on("notifications.unread", on_unread)
    cookie = "; ".join(f"{k}={v}" for k, v in fan_http.cookies.items())
    browser.connect(server.url, headers={"Cookie": cookie}, transports=["polling"])
    try:
        host = server.login(creator.email)
        started = host.post(
            f"{server.url}/api/v1/live/rooms/{room}/start",
            headers=_csrf(host, server.url),
            timeout=10,
        )
        assert started.status_code == 200, started.text
        assert arrived.wait(20), "no notifications.unread event reached the follower"
    finally:
        browser.disconnect()
    assert got[-1]["unread"] == 1 and got[-1]["latest"]["type"] == "live"
    listed = fan_http.get(f"{server.url}/api/v1/me/notifications", timeout=10).json()
    assert "Tea Maker is live now: Oolong night" in listed["items"][0]["text"]

    (message,) = mailbox.wait(1)
    assert message["To"] == "fan@example.com"
    assert "Tea Maker is live now" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(server.url + "/notifications/unsubscribe/")
    assert unsubscribe in message.get_content()

    # A link scanner's GET changes nothing; the mail client's one-click POST (no cookie, no
    # CSRF token) switches live e-mail off.
    assert "Unsubscribe" in requests.get(unsubscribe, timeout=10).text
    prefs_url = f"{server.url}/api/v1/me/notifications/preferences"
    on = {"type": "live", "channel": "email", "enabled": True}
    assert on in fan_http.get(prefs_url, timeout=10).json()["items"]
    posted = requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert posted.status_code == 200
    items = fan_http.get(prefs_url, timeout=10).json()["items"]
    assert {**on, "enabled": False} in items
    assert {"type": "order", "channel": "email", "enabled": False} in items
    token = urlsplit(unsubscribe).path.rsplit("/", 1)[1]
    forged = f"{server.url}/notifications/unsubscribe/{token[:-2]}xx"
    assert requests.post(forged, timeout=10).status_code == 404


def test_concurrent_remind_me_taps_make_one_reminder(served, app, create_user, make_room):
    server, _mailbox = served
    creator, viewer = create_user(creator=True), create_user()
    room = make_room(creator)
    http = server.login(viewer.email)
    headers = _csrf(http, server.url)
    cookies = http.cookies.get_dict()
    gate = threading.Barrier(8)
    codes: list[int] = []

    def tap() -> None:
        gate.wait()
        response = requests.put(
            f"{server.url}/api/v1/live/rooms/{room}/reminder",
            headers=headers,
            cookies=cookies,
            timeout=20,
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [200] * 8
    with app.app_context():
        assert db.session.query(LiveReminder).count() == 1
        db.session.remove()

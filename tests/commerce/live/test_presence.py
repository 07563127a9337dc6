"""Shared presence: two fan-outs (as two processes would have) counting viewers in one Redis."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from commerce.extensions import db
from commerce.live.fanout import LiveFanout
from commerce.live.models import LiveMinute, LiveRoom
from commerce.live.presence import InProcessPresence, RedisPresence, make_presence
from commerce.timeutil import utcnow


class Process:
    """One web process's fan-out: what it sent, and a tick as its loop would run it."""

    def __init__(self, app: Any, presence: RedisPresence) -> None:
        self.app, self.presence = app, presence
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.hub = LiveFanout(
            lambda event, payload, _to: self.sent.append((event, payload)), 0, presence
        )

    def tick(self) -> None:
        with self.app.app_context():
            self.hub.flush(db.session(), utcnow())

    def last_viewers(self) -> int | None:
        counts = [p["viewers"] for e, p in self.sent if e == "live.counters" and "viewers" in p]
        return counts[-1] if counts else None


@pytest.fixture
def prefix(redis_url):
    """Keys of this test only; removed afterwards."""
    prefix = f"test:{uuid.uuid4().hex}:presence:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def make_process(app, redis_url, prefix):
    clients: list[redis.Redis] = []

    def make(*, ttl_s: float = 5.0, url: str | None = None, retry_s: float = 1.0) -> Process:
        client = redis.Redis.from_url(url or redis_url, socket_connect_timeout=0.5)
        clients.append(client)
        return Process(app, RedisPresence(client, ttl_s=ttl_s, retry_s=retry_s, key_prefix=prefix))

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def presence_log(caplog, monkeypatch):
    """The presence logger's records (Alembic's fileConfig disables loggers that exist already)."""
    monkeypatch.setattr(logging.getLogger("commerce.live.presence"), "disabled", False)
    caplog.set_level(logging.INFO, logger="commerce.live.presence")
    return caplog


def peaks(app) -> tuple[int, int]:
    with app.app_context():
        room_peak = db.session.scalar(select(LiveRoom.peak_viewers))
        minute_peak = db.session.scalar(select(func.max(LiveMinute.peak_viewers)))
        return room_peak, minute_peak


def test_viewers_on_two_processes_are_summed_and_the_peak_is_the_total(
    app, make_room, make_process
):
    _api, room = make_room()
    a, b = make_process(), make_process()
    assert a.hub.join(room, "a1", None) == 1
    a.tick()
    # A joiner's snapshot counts the other process's viewers at once, before any tick.
    assert b.hub.join(room, "b1", None) == 2
    assert b.hub.join(room, "b2", None) == 3
    b.tick()
    a.tick()
    assert a.last_viewers() == b.last_viewers() == 3
    assert a.hub.viewers(room) == b.hub.viewers(room) == 3
    assert a.hub.viewers_of([room, "elsewhere"]) == {room: 3, "elsewhere": 0}
    assert peaks(app) == (3, 3)


def test_leaving_lowers_the_total_everywhere_and_keeps_the_peak(app, make_room, make_process):
    _api, room = make_room()
    a, b = make_process(), make_process()
    a.hub.join(room, "a1", None)
    a.hub.join(room, "a2", None)
    b.hub.join(room, "b1", None)
    for process in (a, b, a):
        process.tick()
    assert a.last_viewers() == b.last_viewers() == 3
    a.hub.leave(room, "a1")
    a.tick()
    assert a.last_viewers() == 2
    b.tick()
    assert b.last_viewers() == 2
    # A's last viewer goes: its buffer is dropped, and the tick still takes A's count out.
    a.hub.disconnect("a2")
    a.tick()
    b.tick()
    assert b.last_viewers() == 1
    assert a.hub.viewers(room) == 1
    assert peaks(app) == (3, 3)


def test_a_process_that_stops_ticking_stops_counting_after_its_expiry(
    app, make_room, make_process, redis_url, prefix
):
    _api, room = make_room()
    ttl = 0.6
    a, b = make_process(ttl_s=ttl), make_process(ttl_s=ttl)
    a.hub.join(room, "a1", None)
    b.hub.join(room, "b1", None)
    for process in (a, b, a):
        process.tick()
    assert a.last_viewers() == b.last_viewers() == 2
    # A crashes: no more ticks, no goodbye.
    time.sleep(ttl + 0.3)
    b.tick()
    assert b.last_viewers() == 1
    assert b.hub.viewers(room) == 1
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert list(client.hgetall(f"{prefix}{room}")) == [b.presence.process_id]
    client.close()
    assert peaks(app) == (2, 2)


def test_a_clean_stop_takes_the_process_out_at_once(app, make_room, make_process):
    _api, room = make_room()
    a, b = make_process(), make_process()
    a.hub.interval_s = 0.02

    def spawn(target: Any, *args: Any) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    a.hub.join(room, "a1", None)
    a.hub.start(app, spawn)  # the real loop, ticking by itself
    b.hub.join(room, "b1", None)
    b.tick()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and a.last_viewers() != 2:
        time.sleep(0.02)
    assert a.last_viewers() == 2
    a.hub.stop()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and b.last_viewers() != 1:
        b.tick()
        time.sleep(0.05)
    assert b.last_viewers() == 1  # well before the 5 s expiry


def test_redis_errors_fall_back_to_the_local_count_and_are_logged_once(
    app, make_room, make_process, redis_url, prefix, presence_log
):
    _api, room = make_room()
    a = make_process(retry_s=0)  # try Redis on every call: still one log line per outage
    client = redis.Redis.from_url(redis_url)
    client.set(f"{prefix}{room}", "not a hash")  # every command on it fails with WRONGTYPE
    assert a.hub.join(room, "a1", None) == 1
    assert a.hub.join(room, "a2", None) == 2
    for _ in range(3):
        a.tick()
    assert a.last_viewers() == 2
    assert peaks(app) == (2, 2)
    warnings = [r for r in presence_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0].getMessage()

    client.delete(f"{prefix}{room}")
    client.close()
    a.tick()
    a.tick()
    assert [r.getMessage() for r in presence_log.records if r.levelno == logging.INFO] == [
        "live presence: Redis is back; viewer counts are shared again"
    ]
    assert a.hub.viewers(room) == 2


def test_an_unreachable_redis_leaves_the_room_working(app, make_room, make_process, presence_log):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _api, room = make_room()
    a = make_process(url=f"redis://127.0.0.1:{port}/0")
    assert a.hub.join(room, "a1", None) == 1
    a.hub.add_hearts(room, "a1", 3)
    a.tick()
    a.tick()
    assert [p for e, p in a.sent if e == "live.counters"] == [
        {"room": room, "hearts": 3, "viewers": 1}
    ]
    assert len([r for r in presence_log.records if r.levelno == logging.WARNING]) == 1


SETTINGS = {
    "REDIS_URL": None,
    "SOCKETIO_MESSAGE_QUEUE": None,
    "LIVE_PRESENCE_TTL_SECONDS": 5.0,
    "LIVE_FANOUT_INTERVAL_MS": 150,
}


@pytest.mark.parametrize(
    ("overrides", "shared"),
    [
        ({}, False),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, True),
        ({"SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}, True),
        ({"SOCKETIO_MESSAGE_QUEUE": "rediss://cache.example:6380/0"}, True),
        ({"SOCKETIO_MESSAGE_QUEUE": "amqp://guest@127.0.0.1//"}, False),
    ],
)
def test_presence_is_shared_when_the_app_has_a_redis(overrides, shared):
    """Chosen at start-up without connecting: `make run` needs nothing else running."""
    presence = make_presence({**SETTINGS, **overrides})
    assert isinstance(presence, RedisPresence if shared else InProcessPresence)


def test_an_expiry_shorter_than_three_ticks_is_refused():
    with pytest.raises(RuntimeError, match="LIVE_PRESENCE_TTL_SECONDS"):
        make_presence({**SETTINGS, "REDIS_URL": "redis://x/0", "LIVE_PRESENCE_TTL_SECONDS": 0.3})

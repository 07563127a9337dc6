"""The Socket.IO queue on a Redis of the test's own: killed, frozen and brought back."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import socketio

from commerce.message_queue import RESYNC_EVENT, ResilientRedisManager, client_manager
from tests.processes import free_port
from tests.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)

CHANNEL = "liveshop:test-queue:socketio"


class Server:
    """The part of socketio.Server the manager uses; packets to clients are recorded."""

    def __init__(self, manager: ResilientRedisManager) -> None:
        self.manager = manager
        self.packet_class = socketio.packet.Packet
        self.eio = SimpleNamespace(generate_id=lambda: uuid.uuid4().hex)
        self.sent: list[tuple[str, str, Any]] = []  # (engine.io sid, event, data)
        manager.set_server(self)
        sid = manager.connect("eio-1", "/")  # one client of this process
        manager.enter_room(sid, "/", "user:1")

    def emit(self, event: str, data: Any, namespace: str, ignore_queue: bool = False) -> None:
        self.manager.emit(event, data, namespace=namespace, ignore_queue=ignore_queue)

    def _send_eio_packet(self, eio_sid: str, packet: Any) -> None:
        event, *data = json.loads(packet.data[1:])  # '2["event", data]': a Socket.IO EVENT
        self.sent.append((eio_sid, event, data))

    def events(self) -> list[str]:
        return [event for _sid, event, _data in self.sent]

    def resyncs(self) -> list[Any]:
        return [data for _sid, event, data in self.sent if event == RESYNC_EVENT]


def manager_for(url: str, **timing: float) -> tuple[ResilientRedisManager, Server, list[Any]]:
    """A listening manager with one client connected here; returns what it received."""
    manager = ResilientRedisManager(url, CHANNEL, **timing)
    server = Server(manager)
    received: list[Any] = []

    def listen() -> None:
        for data in manager._listen():
            received.append(json.loads(data))

    threading.Thread(target=listen, daemon=True).start()
    return manager, server, received


@pytest.fixture
def managers() -> Iterator[list[ResilientRedisManager]]:
    made: list[ResilientRedisManager] = []
    yield made
    for manager in made:
        manager.close()


def wait_for(condition: Any, seconds: float) -> float:
    """Seconds until condition() held; fails after `seconds`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "timed out"
        time.sleep(0.01)
    return time.monotonic() - start


def publish_until_heard(url: str, received: list[Any], seconds: float) -> float:
    """Another process's publishes, every 20 ms, until one is heard: seconds taken."""
    other = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    start = time.monotonic()
    try:
        while not any(m.get("event") == "probe" for m in received):
            assert time.monotonic() - start < seconds, f"nothing heard in {seconds} s"
            with contextlib.suppress(redis.exceptions.ConnectionError):  # not up yet
                other.publish(CHANNEL, json.dumps({"method": "emit", "event": "probe"}))
            time.sleep(0.02)
        return time.monotonic() - start
    finally:
        other.close()


def test_the_queue_is_ours_for_redis_urls_only():
    cases = [
        ("redis://127.0.0.1:6379/0", True),
        ("rediss://cache.example:6380/1", True),
        ("amqp://guest@127.0.0.1//", False),
        (None, False),
        ("", False),
    ]
    for url, ours in cases:
        assert isinstance(client_manager(url, CHANNEL), ResilientRedisManager) is ours, url


def test_after_a_crash_the_listener_is_back_within_a_second_and_clients_resync(
    redis_server: RedisServer,  # noqa: F811
    managers,
):
    manager, server, received = manager_for(redis_server.url, retry_seconds=0.2)
    managers.append(manager)
    hooked: list[str] = []
    manager.resync_hooks.append(lambda: hooked.append(threading.current_thread().name))
    publish_until_heard(redis_server.url, received, 5)
    assert server.resyncs() == [] and hooked == []  # the first subscription is no reconnect

    redis_server.kill()
    time.sleep(1.0)  # the outage: longer than a retry, so the listener has failed for sure
    received.clear()
    redis_server.start()
    restarted = time.monotonic()
    publish_until_heard(redis_server.url, received, 5)
    assert time.monotonic() - restarted < 1.0  # the stock backoff had reached 1-2 s by then
    wait_for(lambda: server.resyncs(), 1.0)
    assert server.resyncs() == [[{"reason": "reconnected"}]]
    assert manager.reconnects == 1
    wait_for(lambda: hooked == ["socketio-resync-hook"], 1.0)  # on a thread of its own


def test_a_publish_while_redis_is_down_returns_at_once_and_everyone_resyncs_once_it_is_back(
    managers,
):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    manager = ResilientRedisManager(url, CHANNEL, retry_seconds=0.3)
    managers.append(manager)
    server = Server(manager)
    started = time.monotonic()
    for n in range(20):  # what 20 requests emitting after their commit would do
        manager.emit("order.updated", {"n": n}, to="user:1")
    assert time.monotonic() - started < 0.5  # not 20 x redis-py's retries with backoff
    assert server.events() == ["order.updated"] * 20  # this process's client has them

    with manager._lock:  # the manager's recovery waits until we listen too
        back = RedisServer(port).start()  # and no publish after this: nobody else will tell
        listener = redis.Redis(port=port).pubsub()
        listener.subscribe(CHANNEL)
        wait_for(lambda: listener.get_message(timeout=0.1) is not None, 2)  # SUBSCRIBE confirmed
    try:

        def heard() -> list[dict[str, Any]]:
            messages = []
            deadline = time.monotonic() + 1.5
            while not messages and time.monotonic() < deadline:
                message = listener.get_message(timeout=0.1)
                if message and message["type"] == "message":
                    messages.append(json.loads(message["data"]))
            return messages

        # Within a retry of Redis answering: a resync for every process's clients (room None).
        assert [(m["event"], m["room"]) for m in heard()] == [(RESYNC_EVENT, None)]
        assert server.resyncs() == [[{"reason": "lost_publish"}]]  # ours too
        manager.emit("order.updated", {"n": 20}, to="user:1")
        assert [(m["event"], m["room"]) for m in heard()] == [("order.updated", "user:1")]
        listener.close()
    finally:
        back.kill()


def test_a_frozen_redis_is_noticed_by_ping_and_clients_resync_when_it_answers_again(
    redis_server: RedisServer,  # noqa: F811
    managers,
):
    manager, server, received = manager_for(
        redis_server.url, retry_seconds=0.2, ping_seconds=0.3, timeout_seconds=0.3
    )
    managers.append(manager)
    publish_until_heard(redis_server.url, received, 5)
    redis_server.freeze()  # no reset, no FIN: only a ping can tell
    time.sleep(1.5)
    redis_server.thaw()
    wait_for(lambda: server.resyncs(), 3)
    assert manager.reconnects >= 1
    received.clear()
    assert publish_until_heard(redis_server.url, received, 3) < 1.0

"""The Socket.IO message queue on Redis, made to survive Redis outages.

python-socketio's `RedisManager` recovers from an outage slowly and silently: its listener
retries with an exponential backoff (1, 2, 4, 8 s ...), so events resumed 11-13 s after Redis
returned; redis-py's own retries (10, up to 1 s apart) hide short drops and hold each failed
publish, in the request that emitted it, for seconds; and nobody tells the clients that events
published while Redis was away are gone for good. Here:

- the listener retries every `retry_seconds` (0.5 s) and pings Redis when the channel is quiet,
  so a connection that died without a reset (a partition, a frozen server) is dropped after
  `ping_seconds` + `timeout_seconds` instead of hanging on;
- redis-py retries nothing: every failure reaches this class, which knows what to do about it;
- a failed publish is logged (once per outage) and never raises into the request; while Redis
  is known down publishes are dropped at once rather than each waiting on a connect;
- after every reconnect of the listener, each of this process's clients gets a local `resync`
  event (they may have missed events and re-read their state from the JSON API); a process
  whose publishes were lost publishes one `resync` to everyone as soon as Redis is reachable
  again, for the clients of processes whose own listener never noticed anything.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

RESYNC_EVENT = "resync"


class ResilientRedisManager(socketio.RedisManager):  # type: ignore[misc]
    """A `socketio.RedisManager` that reconnects at once and tells clients to resynchronise."""

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        write_only: bool = False,
        retry_seconds: float = 0.5,
        ping_seconds: float = 2.0,
        timeout_seconds: float = 1.0,
    ) -> None:
        options = {
            "socket_connect_timeout": timeout_seconds,
            "socket_timeout": timeout_seconds,
            "socket_keepalive": True,
            "retry": Retry(NoBackoff(), 0),
        }
        super().__init__(url, channel=channel, write_only=write_only, redis_options=options)
        self.retry_seconds = retry_seconds
        self.ping_seconds = ping_seconds
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._down_since: float | None = None  # when a publish last failed (monotonic)
        self._publishes_lost = 0  # since Redis was last reachable for publishing
        self._recovering = False  # a thread waits for Redis to tell everyone about them
        self.reconnects = 0  # of the listener, since start (a figure for logs and tests)
        self._stopped = threading.Event()
        # Called, each on a thread of its own, whenever this process's clients are told to
        # resync: to push them what they would otherwise all ask for at once.
        self.resync_hooks: list[Callable[[], None]] = []

    def close(self) -> None:
        """Stop listening and close the connections (tests, shutdown)."""
        self._stopped.set()
        self._close_pubsub()  # a listener blocked on it wakes with an error and returns
        if self.redis is not None:
            self.redis.close()

    def _client(self) -> redis.Redis:
        """One client for the process: its pool reconnects by itself on the next command."""
        if self.redis is None:
            self._redis_connect()
        return self.redis

    # ------------------------------------------------------------------ publishing

    def _publish(self, data: Any) -> None:
        """One attempt; a failure is remembered (for the resync) and never raised."""
        with self._lock:
            if self._down_since is not None and (
                time.monotonic() - self._down_since < self.retry_seconds
            ):
                self._publishes_lost += 1  # Redis failed a moment ago: do not wait on it again
                return
        try:
            self._client().publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # any failure: the request must not see it
            self._publish_failed(exc)
            return
        self._flush_lost_publishes()

    def _publish_failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            self._down_since = time.monotonic()
            self._publishes_lost += 1
            recover, self._recovering = not self._recovering, True
        if first:
            log.warning("Socket.IO queue: cannot publish to Redis (%s); clients resync later", exc)
        if recover:
            # Not left to the listener: a worker process (no clients) has none.
            threading.Thread(
                target=self._recover, name="socketio-queue-recovery", daemon=True
            ).start()

    def _recover(self) -> None:
        """Wait for Redis to answer, then have every process's clients resync."""
        while not self._stopped.wait(self.retry_seconds):
            try:
                self._client().ping()
            except Exception:  # still away
                continue
            with self._lock:
                self._recovering = False
            self._flush_lost_publishes()  # a failure here starts another recovery
            return

    def _publish_resync(self) -> None:
        """Every process's clients resync: some of them missed what we could not publish."""
        message = {
            "method": "emit",
            "event": RESYNC_EVENT,
            "data": [{"reason": "lost_publish"}],
            "binary": False,
            "namespace": "/",
            "room": None,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        self._handle_emit(message)  # our own clients: the listener skips our messages
        try:
            self._client().publish(self.channel, self.json.dumps(message))
        except Exception as exc:
            self._publish_failed(exc)

    def _flush_lost_publishes(self) -> None:
        """Redis answers again: tell everyone about the publishes lost before, if any."""
        with self._lock:
            lost, self._publishes_lost = self._publishes_lost, 0
            self._down_since = None
        if lost:
            log.warning("Socket.IO queue: Redis is back; %d publishes were lost", lost)
            self._publish_resync()

    # ------------------------------------------------------------------ listening

    def _redis_listen_with_retries(self) -> Iterator[dict[str, Any]]:
        """Messages of the channel, across reconnects, forever."""
        lost_at: float | None = None
        while not self._stopped.is_set():
            try:
                pubsub = self._subscribe()
                if lost_at is not None:
                    self.reconnects += 1
                    log.warning(
                        "Socket.IO queue: listening again after %.2f s; clients resync",
                        time.monotonic() - lost_at,
                    )
                    self._resync_local_clients()
                lost_at = None
                self._flush_lost_publishes()
                yield from self._messages(pubsub)
            except Exception as exc:  # whatever broke, listen again
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning("Socket.IO queue: lost Redis (%s); retrying", exc)
                self._close_pubsub()
                self._stopped.wait(self.retry_seconds)
        self._close_pubsub()

    def _listen(self) -> Iterator[bytes]:
        """What the stock listener thread reads: the data of our channel's messages."""
        channel = self.channel.encode()
        for message in self._redis_listen_with_retries():
            if message["channel"] == channel and "data" in message:
                yield message["data"]

    def _subscribe(self) -> Any:
        """A new connection subscribed to the channel, once Redis has confirmed it."""
        pubsub = self._client().pubsub()
        self.pubsub = pubsub
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + self.timeout_seconds
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=self.timeout_seconds)
            if message and message["type"] == "subscribe":
                return pubsub
        raise redis.exceptions.TimeoutError("no confirmation of SUBSCRIBE")

    def _messages(self, pubsub: Any) -> Iterator[dict[str, Any]]:
        """Published messages; a quiet connection is pinged, and dropped if it stays silent."""
        heard = time.monotonic()
        ping_sent: float | None = None
        while not self._stopped.is_set():
            message = pubsub.get_message(timeout=min(self.ping_seconds, self.retry_seconds))
            now = time.monotonic()
            if message is not None:
                heard, ping_sent = now, None
                if message["type"] == "message":
                    yield message
            elif ping_sent is not None and now - ping_sent > self.timeout_seconds:
                raise redis.exceptions.TimeoutError("Redis did not answer a PING")
            elif ping_sent is None and now - heard >= self.ping_seconds:
                pubsub.ping()
                ping_sent = now
            if self._publishes_lost:
                self._flush_lost_publishes()

    def _close_pubsub(self) -> None:
        pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):  # a dead connection may fail to close
                pubsub.close()

    def _resync_local_clients(self) -> None:
        """This process's clients may have missed events while the listener was away."""
        for namespace in list(self.get_namespaces()):
            self.server.emit(
                RESYNC_EVENT, {"reason": "reconnected"}, namespace=namespace, ignore_queue=True
            )
        self._run_resync_hooks()

    def _handle_emit(self, message: dict[str, Any]) -> None:
        super()._handle_emit(message)
        if message.get("event") == RESYNC_EVENT:  # lost publishes, ours or another process's
            self._run_resync_hooks()

    def _run_resync_hooks(self) -> None:
        for hook in self.resync_hooks:
            threading.Thread(target=hook, name="socketio-resync-hook", daemon=True).start()


def client_manager(url: str | None, channel: str) -> socketio.PubSubManager | None:
    """The manager for SOCKETIO_MESSAGE_QUEUE; None: Flask-SocketIO's own choice (not Redis)."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return ResilientRedisManager(url, channel)
    return None

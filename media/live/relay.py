"""Live media across nodes: another node's FLV feed relayed to this process's viewers, and plain
HTTP reads of another node's files (HLS). Knows nothing of Flask or commerce.

    relays = RelayHub(linger_s=5.0)
    feed = relays.feed(room_id, "http://10.0.0.5:8000/live/<room>/flv", {"X-Token": "..."})
    for chunk in feed.subscribe():   # the same FLV stream as on the origin: header, GOP cache, tags
        ...

One upstream connection per room per process however many viewers it has here: the origin
sees each web node as one subscriber. The upstream closes linger_s after the last viewer here
left, and the relay ends (its viewers' streams end) when the origin's stream ends or breaks.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urlsplit

from media.live.flv import FlvParser, LowLatencyFeed, Subscription

log = logging.getLogger(__name__)

READ_BYTES = 64 * 1024


class UpstreamError(Exception):
    """The other node could not be reached, or did not answer 200."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Upstream:
    """An answer from another node, its body read as it arrives (read1: never waits to fill)."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self._connection = connection
        self.response = connection.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}

    def read(self, size: int = READ_BYTES) -> bytes:
        """The next bytes there are (b"" at the end)."""
        return self.response.read1(size)

    def chunks(self) -> Iterator[bytes]:
        """The body piece by piece; the connection is closed at the end or when dropped."""
        try:
            while data := self.read():
                yield data
        finally:
            self.close()

    def interrupt(self) -> None:
        """From another thread: a read blocked on this connection ends (the reader closes it)."""
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the connection (from the thread that reads it)."""
        self.interrupt()
        self._connection.close()


def fetch(url: str, headers: Mapping[str, str], *, timeout: float) -> Upstream:
    """GET url (http or https); any status is returned, an unreachable node is UpstreamError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"not an http(s) URL: {url!r}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers=dict(headers))
        return Upstream(connection)
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise UpstreamError(f"{url}: {exc}") from exc


class RelayedFeed(LowLatencyFeed):
    """A LowLatencyFeed filled from another node's stream; knows how many viewers it has."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribers = 0

    def subscribe(self, max_chunks: int = 3000) -> Subscription:
        with self._lock:
            self.subscribers += 1
        return super().subscribe(max_chunks)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
                self.subscribers -= 1

    def end(self) -> None:
        super().end()
        with self._lock:
            self.subscribers = 0

    @property
    def ended(self) -> bool:
        return self._ended


class FlvRelay:
    """One upstream FLV stream pushed tag by tag into a local RelayedFeed."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
        linger_s: float,
        on_done: Callable[[FlvRelay], None],
    ) -> None:
        self.url = url
        self.feed = RelayedFeed()
        self._headers = dict(headers)
        self._timeout = timeout
        self._linger_s = linger_s
        self._on_done = on_done
        self._upstream: Upstream | None = None

    def start(self) -> FlvRelay:
        """Connect now (so a refusal is known to the caller), then relay in a thread."""
        upstream = fetch(self.url, self._headers, timeout=self._timeout)
        if upstream.status != 200:
            upstream.close()
            raise UpstreamError(f"{self.url} answered {upstream.status}", upstream.status)
        self._upstream = upstream
        threading.Thread(target=self._run, daemon=True, name=f"flv-relay {self.url}").start()
        return self

    def _run(self) -> None:
        assert self._upstream is not None
        parser = FlvParser()
        idle_since: float | None = None
        try:
            while data := self._upstream.read():
                for tag in parser.feed(data):
                    self.feed.push(tag)
                if self.feed.subscribers > 0:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > self._linger_s:
                    break  # nobody watches here any more
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.info("relay from %s stopped: %s", self.url, exc)
        finally:
            self._upstream.close()
            self.feed.end()
            self._on_done(self)

    def stop(self) -> None:
        """Close the upstream: the relay ends, and so do its viewers' streams."""
        if self._upstream is not None:
            self._upstream.interrupt()


class RelayHub:
    """This process's relays, one per room, made by the first viewer and gone after the last."""

    def __init__(self, *, timeout: float = 5.0, linger_s: float = 5.0) -> None:
        self.timeout = timeout
        self.linger_s = linger_s
        self._relays: dict[str, FlvRelay] = {}
        self._lock = threading.Lock()
        self._connecting: dict[str, threading.Lock] = {}

    def feed(self, room_id: str, url: str, headers: Mapping[str, str]) -> RelayedFeed:
        """The room's relayed feed, connecting to url first if there is none (UpstreamError)."""
        with self._lock:
            connecting = self._connecting.setdefault(room_id, threading.Lock())
        # One connection attempt per room at a time: viewers arriving together share it.
        with connecting:
            with self._lock:
                relay = self._relays.get(room_id)
                if relay is not None and not relay.feed.ended:
                    return relay.feed
            relay = FlvRelay(
                url,
                headers,
                timeout=self.timeout,
                linger_s=self.linger_s,
                on_done=lambda done: self._forget(room_id, done),
            )
            relay.start()
            with self._lock:
                self._relays[room_id] = relay
            return relay.feed

    def rooms(self) -> list[str]:
        """Rooms relayed here now."""
        with self._lock:
            return list(self._relays)

    def _forget(self, room_id: str, relay: FlvRelay) -> None:
        with self._lock:
            if self._relays.get(room_id) is relay:
                del self._relays[room_id]

    def close(self) -> None:
        """Stop every relay."""
        with self._lock:
            relays = list(self._relays.values())
        for relay in relays:
            relay.stop()

"""How many people watch a room: this process's connections, or every process's through Redis.

Each web process keeps its own Socket.IO connections (sticky sessions); the fan-out tells a
`Presence` how many of them are in each room and gets back the room's total, which is what it
broadcasts and records as the peak. `InProcessPresence` (the embedded default, nothing else
running) returns the local count; `RedisPresence` shares it when the app has a Redis.

Design of the Redis one: one hash per room, one field per process (`host:pid:random`), whose
value is `count:expires_at` in milliseconds of the Redis server's clock. Every tick one Lua script
writes this process's count in each room it sees (HDEL when it fell to 0), drops fields past their
expiry and returns, per room, the sum of the other processes' fresh fields; the total is that plus
the local count of the moment (so a joining viewer is counted at once, before the next tick).
- Round trips: one EVALSHA per tick, whatever the number of rooms (none when the process has no
  room); reads outside the tick (snapshots, pages, dashboard) use what the last tick returned and
  only go to Redis for a room not seen in the last second, one round trip for a whole page.
- Memory: one small hash field per process per room, against one sorted-set entry per viewer (and
  a write per viewer per heartbeat) for a set of sids; the cost follows rooms, not audience.
- Crash: a process that stops writing stops counting after LIVE_PRESENCE_TTL_SECONDS; the key
  itself expires with its last writer. Expiry uses Redis's clock, so hosts' clock skew is harmless.
- Redis errors: the total falls back to the local count (logged once, then once on recovery), and
  Redis is left alone for a second so an unreachable server does not slow every tick.
The script touches every room's key at once: one Redis server (or a primary), as the Socket.IO
message queue uses, not a Redis Cluster.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "liveshop:presence:"
CACHE_SECONDS = 1.0  # how long a total read outside the tick serves later reads
RETRY_SECONDS = 1.0  # after a Redis error, counts stay local this long before trying again
# A tick waits on Redis at most this long: chat and hearts go out in the same tick.
REDIS_TIMEOUT_SECONDS = 0.5
READ_ONLY = -1

# KEYS[i]: a room's hash. ARGV[1]: this process's field; ARGV[2]: expiry in ms;
# ARGV[2 + i]: this process's count in room i (0: remove it, -1: only read).
SYNC_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local me, ttl = ARGV[1], tonumber(ARGV[2])
local others = {}
for i, key in ipairs(KEYS) do
  local mine = tonumber(ARGV[2 + i])
  if mine > 0 then
    redis.call('HSET', key, me, mine .. ':' .. (now + ttl))
    redis.call('PEXPIRE', key, ttl)
  elseif mine == 0 then
    redis.call('HDEL', key, me)
  end
  local sum, fields = 0, redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    if fields[j] ~= me then
      local count, expires = string.match(fields[j + 1], '^(%d+):(%d+)$')
      if count and tonumber(expires) > now then
        sum = sum + tonumber(count)
      else
        redis.call('HDEL', key, fields[j])
      end
    end
  end
  others[i] = sum
end
return others
"""


class Presence(Protocol):
    """Turns this process's count per room into the room's total."""

    def sync(self, counts: Mapping[str, int]) -> dict[str, int]:
        """The tick: publish these counts (a room left out counts 0 here) and return totals."""
        ...

    def totals(self, counts: Mapping[str, int]) -> dict[str, int]:
        """Outside the tick: totals given this process's counts now; publishes nothing."""
        ...

    def withdraw(self) -> None:
        """Stop counting this process's viewers anywhere (a clean shutdown)."""
        ...


class InProcessPresence:
    """One process: its connections are everyone."""

    def sync(self, counts: Mapping[str, int]) -> dict[str, int]:
        return dict(counts)

    def totals(self, counts: Mapping[str, int]) -> dict[str, int]:
        return dict(counts)

    def withdraw(self) -> None:
        pass


def process_id() -> str:
    """host:pid plus a random part: a restarted container comes back as the same host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class RedisPresence:
    """Per-room hashes of per-process counts with an expiry each (see the module docstring)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_s: float,
        cache_s: float = CACHE_SECONDS,
        retry_s: float = RETRY_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self._client = client
        self._script = client.register_script(SYNC_SCRIPT)
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self._cache_s, self._retry_s, self._prefix = cache_s, retry_s, key_prefix
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.process_id = process_id()
        self._published: set[str] = set()  # rooms where this process's field says > 0
        self._others: dict[str, tuple[float, int]] = {}  # room -> (read at, other processes' sum)
        self._failing = False
        self._retry_at = 0.0

    def sync(self, counts: Mapping[str, int]) -> dict[str, int]:
        self._check_fork()
        with self._lock:
            gone = self._published - counts.keys()
        writes = {**dict.fromkeys(gone, 0), **counts}
        if not writes:
            return {}
        others = self._call(writes)
        if others is None:
            return dict(counts)
        now = time.monotonic()
        with self._lock:
            self._published = {room for room, count in counts.items() if count > 0}
            self._others.update((room, (now, sum_)) for room, sum_ in others.items())
            self._forget_stale(now, keep=counts.keys())
        return {room: count + others[room] for room, count in counts.items()}

    def totals(self, counts: Mapping[str, int]) -> dict[str, int]:
        self._check_fork()
        now = time.monotonic()
        with self._lock:
            known = {
                room: entry[1]
                for room in counts
                if (entry := self._others.get(room)) and now - entry[0] < self._cache_s
            }
        missing = [room for room in counts if room not in known]
        if missing:
            read = self._call(dict.fromkeys(missing, READ_ONLY))
            if read is not None:
                known.update(read)
                with self._lock:
                    self._others.update((room, (now, sum_)) for room, sum_ in read.items())
        return {room: count + known.get(room, 0) for room, count in counts.items()}

    def withdraw(self) -> None:
        with self._lock:
            rooms, self._published = list(self._published), set()
        if rooms:
            self._call(dict.fromkeys(rooms, 0))

    # ----------------------------------------------------------------------------------------------

    def _call(self, counts: Mapping[str, int]) -> dict[str, int] | None:
        """Run the script over these rooms; None when Redis cannot answer (counts stay local)."""
        if self._failing and time.monotonic() < self._retry_at:
            return None
        rooms = list(counts)
        try:
            result: Any = self._script(
                keys=[self._prefix + room for room in rooms],
                args=[self.process_id, self.ttl_ms, *counts.values()],
            )
        except redis.RedisError as exc:
            with self._lock:
                first, self._failing = not self._failing, True
                self._retry_at = time.monotonic() + self._retry_s
            if first:  # once per outage, not once per tick
                log.warning(
                    "live presence: Redis unavailable (%s); viewer counts are this process's only "
                    "until it is back",
                    exc,
                )
            return None
        with self._lock:
            recovered, self._failing = self._failing, False
        if recovered:
            log.info("live presence: Redis is back; viewer counts are shared again")
        return {room: int(sum_) for room, sum_ in zip(rooms, result, strict=True)}

    def _forget_stale(self, now: float, keep: Iterable[str]) -> None:
        kept = set(keep)
        for room, (read_at, _sum) in list(self._others.items()):
            if room not in kept and now - read_at >= self._cache_s:
                del self._others[room]

    def _check_fork(self) -> None:
        """A worker forked after the app was built must not write under its parent's name."""
        if os.getpid() != self._pid:
            with self._lock:
                self._pid, self.process_id = os.getpid(), process_id()
                self._published, self._others = set(), {}


def redis_url_of(config: Mapping[str, Any]) -> str | None:
    """REDIS_URL, else the Socket.IO message queue when it is a Redis (what scale-out runs on)."""
    if config.get("REDIS_URL"):
        return str(config["REDIS_URL"])
    queue = config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    return queue if queue.startswith(("redis://", "rediss://")) else None


def make_presence(config: Mapping[str, Any]) -> Presence:
    """Chosen at start-up; no connection is made until the first tick."""
    url = redis_url_of(config)
    if url is None:
        return InProcessPresence()
    ttl_s = float(config["LIVE_PRESENCE_TTL_SECONDS"])
    interval_s = config["LIVE_FANOUT_INTERVAL_MS"] / 1000
    if interval_s > 0 and ttl_s < 3 * interval_s:
        raise RuntimeError(
            "LIVE_PRESENCE_TTL_SECONDS must cover at least three fan-out ticks "
            f"({3 * interval_s:g} s), got {ttl_s:g}"
        )
    client = redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    # One Redis may serve several deployments: each counts only its own viewers.
    prefix = f"liveshop:{config.get('DEPLOYMENT_NAME') or 'default'}:presence:"
    return RedisPresence(client, ttl_s=ttl_s, key_prefix=prefix)

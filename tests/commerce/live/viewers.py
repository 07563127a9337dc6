"""Many Socket.IO viewers of one room, on an asyncio loop of their own beside the test's thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from typing import Any

import socketio


class Viewers:
    """`count` WebSocket clients that joined `room` on `url`; counts what each receives."""

    def __init__(self, url: str, room: str, count: int) -> None:
        self.url, self.room, self.count = url, room, count
        self.received: dict[str, list[float]] = defaultdict(list)
        self.dropped = 0
        self.joined = 0
        self._loop = asyncio.new_event_loop()
        self._clients: list[socketio.AsyncClient] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Viewers:
        self._thread.start()
        self._run(self._connect_all(), timeout=120)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._run(self._disconnect_all(), timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self, coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect_one(self) -> None:
        client = socketio.AsyncClient(reconnection=False)

        @client.on("*")
        def any_event(name: str, *_args: Any) -> None:
            self.received[name].append(time.monotonic())

        @client.on("disconnect")
        def on_disconnect(*_reason: Any) -> None:
            self.dropped += 1

        await client.connect(self.url, transports=["websocket"], wait_timeout=30)
        self._clients.append(client)
        ack = await client.call("live.join", {"room": self.room}, timeout=60)
        assert ack["ok"], ack
        self.joined += 1

    async def _connect_all(self) -> None:
        for start in range(0, self.count, 50):  # in waves, as an audience arrives
            await asyncio.gather(*(self._connect_one() for _ in range(start, self.count)[:50]))

    async def _disconnect_all(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self._clients if c.connected))
        await asyncio.sleep(0.1)  # let aiohttp close its sessions before the loop stops

    def got(self, event: str) -> int:
        return len(self.received[event])

    def wait_for(self, event: str, count: int, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.got(event) < count:
            time.sleep(0.05)
        return self.got(event) >= count

    def wait_for_drops(self, count: int, seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.dropped < count:
            time.sleep(0.05)
        return self.dropped >= count

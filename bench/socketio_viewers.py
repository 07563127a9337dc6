"""Thousands of Socket.IO viewers in one process: the bench's audience (make bench-realtime).

Each viewer is a bare WebSocket speaking the Engine.IO 4 / Socket.IO 5 text protocol (open,
connect, an event with an ack, ping/pong), so one client process holds thousands of them at a
small fraction of the CPU a full client would take from the servers under test on 2 cores.

    python bench/socketio_viewers.py --urls URL[,URL...] --viewers N --join EVENT --data JSON

Viewer i connects to urls[i % len(urls)] and joins with `EVENT` and `DATA` (ack awaited). Then,
on stdout, `joined <ok> <failed> <seconds>`; for each line `round <k>` read on stdin it waits
until every joined viewer has received one `live.pins` (or 30 s) and prints
`arrivals <k> <json list of time.monotonic() values>` (one clock for every process of a host).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from typing import Any

import aiohttp

OPEN_TIMEOUT_S = 60
WATCHED = '42["live.pins"'


class Viewer:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.arrivals: list[float] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def join(self, event: str, data: Any) -> None:
        ws_url = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.http.ws_connect(ws_url, autoping=False, max_msg_size=0)
        opened = await self.ws.receive_str(timeout=OPEN_TIMEOUT_S)
        assert opened.startswith("0"), opened
        await self.ws.send_str("40")
        connected = await self.ws.receive_str(timeout=OPEN_TIMEOUT_S)
        assert connected.startswith("40"), connected
        self._reader = asyncio.create_task(self._read())
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[1] = ack
        await self.ws.send_str("421" + json.dumps([event, data]))
        answer = await asyncio.wait_for(ack, OPEN_TIMEOUT_S)
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise RuntimeError(f"join refused: {answer}")

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text = message.data
            if text.startswith(WATCHED):
                self.arrivals.append(time.monotonic())
            elif text == "2":
                await self.ws.send_str("3")
            elif text.startswith("43"):
                ack_id = int(text[2 : text.index("[")])
                future = self._acks.pop(ack_id, None)
                if future is not None and not future.done():
                    future.set_result((json.loads(text[text.index("[") :]) or [None])[0])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


async def run(urls: list[str], count: int, event: str, data: Any, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        viewers = [Viewer(http, urls[i % len(urls)]) for i in range(count)]
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []

        async def join(viewer: Viewer) -> Viewer | None:
            async with gate:
                try:  # a server that stopped answering must not hold the bench for long
                    await asyncio.wait_for(viewer.join(event, data), 2 * OPEN_TIMEOUT_S)
                    return viewer
                except Exception as exc:  # counted and shown: a bench reports, it does not stop
                    failures.append(repr(exc)[:200])
                    return None

        started = time.monotonic()
        joined = [v for v in await asyncio.gather(*(join(v) for v in viewers)) if v]
        print(f"joined {len(joined)} {len(failures)} {time.monotonic() - started:.1f}", flush=True)
        if failures:
            print(f"# first failure: {failures[0]}", file=sys.stderr, flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "quit":
                break
            number = int(line.split()[1])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(not v.arrivals for v in joined):
                await asyncio.sleep(0.01)
            arrivals = [v.arrivals.pop(0) for v in joined if v.arrivals]
            print(f"arrivals {number} {json.dumps(arrivals)}", flush=True)
        await asyncio.gather(*(v.close() for v in joined), return_exceptions=True)


def main() -> int:
    global OPEN_TIMEOUT_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", required=True)
    parser.add_argument("--viewers", type=int, required=True)
    parser.add_argument("--join", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=OPEN_TIMEOUT_S, help="per join step")
    args = parser.parse_args()
    OPEN_TIMEOUT_S = args.timeout
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one descriptor per viewer
    asyncio.run(
        run(args.urls.split(","), args.viewers, args.join, json.loads(args.data), args.concurrency)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

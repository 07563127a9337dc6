"""The reference of make bench-realtime: python-socketio alone, in the app's async mode (gevent),
behind the same Redis message queue. `join` enters the room; POST / broadcasts its body as
`live.pins` to it; GET /page answers a small page. No app, database or session around it.

Run from this folder (so the project's gunicorn.conf.py is not read):
    BARE_REDIS_URL=redis://... gunicorn -k gevent --worker-connections 10000 socketio_bare:app
"""

from __future__ import annotations

import json
import os
from typing import Any

import socketio

sio = socketio.Server(
    async_mode="gevent",
    client_manager=socketio.RedisManager(os.environ["BARE_REDIS_URL"], channel="bare-bench"),
)


@sio.on("join")
def join(sid: str, room: str) -> dict[str, bool]:
    sio.enter_room(sid, room)
    return {"ok": True}


def http(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        sio.emit("live.pins", json.loads(environ["wsgi.input"].read(size)), to="room")
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b"{}"]
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b"<!doctype html><title>page</title><p>bare</p>"]


app = socketio.WSGIApp(sio, http)

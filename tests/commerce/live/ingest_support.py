"""Helpers for the live ingest tests: an app with a light live ladder, waits, socket clients."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import simple_websocket
from flask import Flask
from sqlalchemy import select
from wsproto.events import CloseConnection

from app import create_app
from commerce.extensions import db
from commerce.jobs.models import Job
from commerce.live.models import LiveRoom
from media.samples import generate_clip
from tests.conftest import _empty_tables, app_settings, empty_and_dispose
from tests.live import LiveServer
from tests.media.live.conftest import TEST_OPTIONS

WAIT_S = 30.0


def ingest_app(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """The live tests' app, with two small rungs and short timers; its hub is closed after."""
    config = {
        **app_settings(database_url, tmp_path),
        "LIVE_FANOUT_INTERVAL_MS": 0,
        "LIVE_ROOT": str(tmp_path / "live"),
        "LIVE_OPTIONS": TEST_OPTIONS,
        "LIVE_GRACE_SECONDS": 1,
        "LIVE_RECONCILE_SECONDS": 0.2,
        **overrides,
    }
    app = create_app(config)
    with app.app_context():
        _empty_tables()
    yield app
    app.extensions["live_ingest"].close()
    empty_and_dispose(app)


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_S, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def room_row(app: Flask, public_id: str) -> LiveRoom:
    with app.app_context():
        room = db.session.scalar(select(LiveRoom).where(LiveRoom.public_id == public_id))
        assert room is not None
        db.session.expunge(room)
        db.session.remove()
        return room


def jobs_of(app: Flask, kind: str) -> list[Job]:
    with app.app_context():
        jobs = list(db.session.scalars(select(Job).where(Job.kind == kind)))
        for job in jobs:
            db.session.expunge(job)
        db.session.remove()
        return jobs


def stream_key(api: Any, public_id: str) -> str:
    response = api.post(f"/api/v1/live/rooms/{public_id}/stream-key")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["stream_key"]


def csrf_token(http: requests.Session, server: LiveServer) -> str:
    return http.get(f"{server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]


def ingest_socket(
    server: LiveServer,
    public_id: str,
    http: requests.Session | None = None,
    *,
    token: str | None = None,
    origin: str | None = None,
) -> simple_websocket.Client:
    """The studio page's socket: its cookies, its Origin and the CSRF token in the query."""
    # simple_websocket's client sends "Host: 127.0.0.1" without the port: the page's Origin
    # matches the Host it was served from, so a same-origin page here is http://127.0.0.1.
    headers = {"Origin": origin if origin is not None else "http://127.0.0.1"}
    if http is not None:
        token = token if token is not None else csrf_token(http, server)
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    url = server.url.replace("http://", "ws://") + f"/live/{public_id}/ingest"
    if token is not None:
        url += f"?csrf_token={token}"
    return simple_websocket.Client.connect(url, headers=headers)


def refusal(ws: simple_websocket.Client, within_s: float = 20.0) -> tuple[int, str]:
    """The close code and reason a refused socket gets (a socket left open is a failure)."""
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=1)
    except simple_websocket.ConnectionClosed as closed:
        return _close_frame(ws) or (closed.reason, closed.message)
    ws.close()
    raise AssertionError(f"the server did not close the socket within {within_s:g} s")


def _close_frame(ws: simple_websocket.Client) -> tuple[int, str] | None:
    """The close frame the client read but never looked at.

    simple_websocket's client handshake takes only the first event of its first read: when the
    server's 101 and its close frame arrive in one read (a refusal sent at once, on a busy
    machine), the close stays parsed-but-unseen and the client reports 1005 at the EOF.
    """
    for event in ws.ws.events():
        if isinstance(event, CloseConnection):
            return event.code, event.reason or ""
    return None


def feed_file(ws: simple_websocket.Client, path: str, chunk_ms: int = 250, seconds: float = 3.0):
    """Send a file as MediaRecorder would: a chunk every chunk_ms, in real time."""
    data = Path(path).read_bytes()
    count = max(1, round(seconds * 1000 / chunk_ms))
    size = -(-len(data) // count)
    for i in range(0, len(data), size):
        ws.send(data[i : i + size])
        time.sleep(chunk_ms / 1000)


def make_webm_clip(folder: Path, seconds: int = 3) -> str:
    """What a browser's MediaRecorder sends: VP8 + Opus in WebM, written as a live stream."""
    out = folder / "camera.webm"
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
        "-b:v", "800k", "-g", "30", "-c:a", "libopus", "-f", "webm", "-live", "1", "-y", str(out),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=120)
    return str(out)


def make_live_clip(folder: Path) -> str:
    return generate_clip(folder / "live.mp4", duration_s=3, width=640, height=360)

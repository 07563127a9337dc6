"""The browser latency bench's plumbing: the real app on a port with RTMP, a creator's room and
its stream key made by the app's own services, CPU accounting, and finding leftover processes."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from commerce.accounts.schemas import ProfileIn, SignupIn
from commerce.accounts.services import do_signup, do_update_profile
from commerce.extensions import db
from commerce.live import rules
from commerce.live.ingest import LiveIngest, ingest
from commerce.live.models import LiveRoom
from commerce.live.schemas import RoomIn
from commerce.live.services import do_rotate_stream_key, do_schedule_room
from commerce.timeutil import utcnow
from media.live.session import process_cpu_seconds
from tests.live import LiveServer

STATIC = Path(__file__).resolve().parents[1] / "static"


# The reference played like ours: nginx serves its own HLS (as the nginx-rtmp README sets it up)
# and a page that plays it with the room page's player module, live-player.js, unchanged: the
# same hls.js, the same settings, the same browser. Only the origin differs.
NGINX_PLAYER_PAGE = """<!doctype html>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>video { position: fixed; inset: 0; width: 100%; height: 100%; object-fit: cover; }</style>
<video id="live-video" muted playsinline></video>
<script src="/static/vendor/hls.min.js"></script>
<script type="module">
  import { createLivePlayer } from "/static/js/live-player.js";
  const video = document.getElementById("live-video");
  const hlsUrl = new URLSearchParams(location.search).get("src") || "/hls/bench.m3u8";
  window.__player = createLivePlayer(video, { hlsUrl, lowLatency: false });
  window.__player.start();
</script>
"""


def nginx_player_site(work: str, http_port: int, live_root: str, app_url: str) -> str:
    """Write the reference page (with copies of static/js and static/vendor) under work; returns
    the http {} block that serves it and nginx's HLS folder on http_port."""
    site = os.path.join(work, "nginx-site")
    for part in ("js", "vendor"):
        shutil.copytree(STATIC / part, os.path.join(site, "static", part))
    with open(os.path.join(site, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(NGINX_PLAYER_PAGE)
    for root, dirs, files in os.walk(site):  # the workers run as nobody/www-data
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(site, 0o755)
    hls = os.path.join(work, "nginx-hls")
    return (
        "http { include /etc/nginx/mime.types; access_log off; sendfile on; tcp_nodelay on;\n"
        f"  server {{ listen 127.0.0.1:{http_port}; root {site};\n"
        f"    location /hls/ {{ alias {hls}/; add_header Cache-Control no-cache; }}\n"
        # Our room's folder as nginx would serve it from a CDN origin: the player on our
        # playlists without the app in between.
        f"    location /ours/ {{ alias {live_root}/; add_header Cache-Control no-cache; }}\n"
        # And the app's own answers, through nginx (same origin for the page).
        f"    location /app/ {{ proxy_pass {app_url}/; proxy_buffering off; }} }} }}\n"
    )


def free_port() -> int:
    # RTMP port 0 means "off" in the app's config, so ask the kernel for a free one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_app(work: str, segment_s: float) -> Flask:
    """The app with everything it writes inside work (database, storage, live folders)."""
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(16),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(work, 'bench.sqlite3')}",
            "STORAGE_LOCAL_ROOT": os.path.join(work, "storage"),
            "UPLOAD_TMP_DIR": os.path.join(work, "uploads"),
            "WORK_DIR": os.path.join(work, "work"),
            "LIVE_ROOT": os.path.join(work, "live"),
            "LIVE_RTMP_HOST": "127.0.0.1",
            "LIVE_RTMP_PORT": free_port(),
            # Production's ladder and preset (720p + 360p, veryfast); only the segment may vary.
            "LIVE_SEGMENT_SECONDS": segment_s,
            "LIVE_GRACE_SECONDS": 15,  # the tail plays out before anything ends
        }
    )
    app.config["SERVER_NAME"] = None
    with app.app_context():
        upgrade()
    return app


def make_room(app: Flask) -> tuple[str, str]:
    """A creator, a scheduled room and its stream key, through the studio's use cases."""
    with app.app_context():
        session = db.session()
        creator = do_signup(
            session,
            SignupIn(email="host@example.com", password=secrets.token_hex(8), display_name="Host"),
        )
        do_update_profile(creator, ProfileIn(display_name="Host", is_creator=True))
        room = do_schedule_room(session, creator, RoomIn(title="Latency bench"), utcnow())
        key = do_rotate_stream_key(room, utcnow())
        session.commit()
        public_id = room.public_id
        db.session.remove()
    return public_id, key


def room_state(app: Flask, public_id: str) -> str | None:
    with app.app_context():
        state = db.session.scalar(select(LiveRoom.state).where(LiveRoom.public_id == public_id))
        db.session.remove()
    return state


def wait_live(app: Flask, public_id: str, timeout_s: float, alive: Callable[[], bool]) -> float:
    """Wait until the room went live (its media became playable); returns the seconds taken."""
    started = time.monotonic()
    while room_state(app, public_id) != rules.LIVE:
        if time.monotonic() - started > timeout_s or not alive():
            raise RuntimeError(f"the room did not go live within {timeout_s:g} s")
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass
class Served:
    """The app on 127.0.0.1:<port> with its RTMP ingest, as `flask serve` runs them."""

    app: Flask
    server: LiveServer
    live: LiveIngest
    rtmp_url: str

    @classmethod
    def start(cls, app: Flask) -> Served:
        server = LiveServer(app).__enter__()
        with app.app_context():
            live = ingest()
        rtmp = live.start_rtmp()
        if rtmp is None:
            server.__exit__(None, None, None)
            raise RuntimeError("RTMP ingest did not start")
        return cls(app, server, live, f"rtmp://127.0.0.1:{rtmp.port}/live")

    closed: bool = False

    def close(self) -> None:
        """Once, however often called: rooms end (their ffmpeg stops), then the HTTP server goes."""
        if self.closed:
            return
        self.closed = True
        self.app.extensions["live_fanout"].stop()
        self.live.close()
        self.server.__exit__(None, None, None)


def children_of(pid: int) -> list[int]:
    """Every live descendant of pid (Linux /proc), e.g. Playwright's driver and Chromium."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def cpu_pressure() -> float | None:
    """Share of the last 60 s some runnable task waited for a CPU (Linux PSI), in percent."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as fh:
            some = fh.readline().split()
        return float(dict(f.split("=") for f in some[1:])["avg60"])
    except (OSError, KeyError, ValueError):
        return None


def command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


@dataclass
class CpuMeter:
    """CPU seconds per second of named process groups, over a window opened by mark()."""

    groups: dict[str, Callable[[], list[int]]]
    marks: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Last reading per group and pid: processes come and go (Chromium's renderers, a restarted
    # ffmpeg), and one that exited still spent its CPU inside the window.
    seen: dict[str, dict[int, float]] = field(default_factory=dict)

    def _total(self, name: str) -> float:
        readings = self.seen.setdefault(name, {})
        for pid in self.groups[name]():
            with contextlib.suppress(OSError):
                readings[pid] = process_cpu_seconds(pid)
        return sum(readings.values())

    def mark(self) -> None:
        for name in self.groups:
            self.marks[name] = (time.monotonic(), self._total(name))

    def rates(self) -> dict[str, float]:
        out = {}
        for name in self.groups:
            if name not in self.marks:
                continue
            t0, c0 = self.marks[name]
            elapsed = time.monotonic() - t0
            if elapsed > 1:
                out[name] = (self._total(name) - c0) / elapsed
        return out


class Ticker:
    """Calls tick() every period_s in a thread until stop() (playlist watchers, CPU samples)."""

    def __init__(self, tick: Callable[[], None], period_s: float) -> None:
        self._tick = tick
        self._period = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-ticker")

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            self._tick()

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

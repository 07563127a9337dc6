"""The low-latency FLV feed through another web node (the relay) next to the same feed read
directly from the ingest node, in the same run.

Two `flask serve` processes on their own live folders: A ingests (RTMP, the OBS stand-in is
ffmpeg pushing a 640x360 x264 zerolatency stream with -re), B has nothing of the room. One
reader takes /live/<room>/flv from A (the reference), VIEWERS readers take it from B (all
through B's one relay connection to A). Each reader notes when every video tag arrives (by
its FLV timestamp); a tag's lag is its arrival minus (the earliest direct arrival's clock +
its timestamp), so the direct path's lag is its jitter and the relay's is that plus the hop.
Also reported: the relay's own extra time per tag (relay arrival - direct arrival), and the
upstream connections A served to B (1 whatever VIEWERS).

Usage: python bench/live_relay_bench.py [seconds] [viewers]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from media.live.flv import TAG_VIDEO, FlvParser
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-pass-1"
WARMUP_S = 2.0


class Reader(threading.Thread):
    """One FLV viewer: arrival time (perf_counter) per video tag timestamp."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.arrivals: dict[int, float] = {}
        self.error: str | None = None

    def run(self) -> None:
        try:
            with requests.get(self.url, stream=True, timeout=10) as answer:
                answer.raise_for_status()
                parser = FlvParser()
                for chunk in answer.iter_content(chunk_size=None):
                    at = time.perf_counter()
                    for tag in parser.feed(chunk):
                        if tag.tag_type == TAG_VIDEO and not tag.is_sequence_header:
                            self.arrivals.setdefault(tag.timestamp_ms, at)
                    if self.stop.is_set():
                        return
        except requests.RequestException as exc:
            self.error = str(exc)


def start(
    folder: Path, env: dict[str, str], name: str, **extra: str
) -> tuple[str, subprocess.Popen]:
    port = free_port()
    log = open(folder / f"{name}.log", "wb")  # noqa: SIM115  (lives as long as the process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**env, **extra},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/auth/csrf", timeout=1).ok:
                return url, proc
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start; see {folder}")


def seed(database_url: str) -> str:
    from flask_migrate import upgrade

    from app import create_app
    from commerce.accounts.models import User
    from commerce.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "relay-bench"})
    with app.app_context():
        upgrade()
        user = User(email="host@bench.test", display_name="Host", bio="", is_creator=True)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        db.engine.dispose()
    return "host@bench.test"


def make_room(url: str, email: str) -> tuple[str, str]:
    """A room and its stream key, through the API as the studio makes them."""
    http = requests.Session()
    token = http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    http.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
        timeout=10,
    ).raise_for_status()
    headers = {"X-CSRFToken": http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]}
    room = http.post(
        f"{url}/api/v1/live/rooms",
        json={"title": "Bench", "featured_product_ids": []},
        headers=headers,
        timeout=10,
    ).json()["id"]
    key = http.post(
        f"{url}/api/v1/live/rooms/{room}/stream-key", headers=headers, timeout=10
    ).json()["stream_key"]
    return room, key


def live_on(url: str, room: str) -> bool:
    with requests.get(f"{url}/live/{room}/flv", timeout=5, stream=True) as answer:
        return answer.status_code == 200


def push_argv(seconds: float, rtmp_port: int, key: str) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", f"{seconds:.0f}", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{rtmp_port}/live/{key}",
    ]  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    viewers = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    folder = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    email = seed(database_url)
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "relay-bench-secret",
        "LIVE_RTMP_PORT": "0",
        "LIVE_PRESET": "ultrafast",
        "LIVE_GRACE_SECONDS": "1",
        "STORAGE_LOCAL_ROOT": str(folder / "storage"),
        "UPLOAD_TMP_DIR": str(folder / "uploads"),
        "WORK_DIR": str(folder / "work"),
    }
    rtmp_port = free_port()
    origin, a = start(
        folder, env, "a", LIVE_RTMP_PORT=str(rtmp_port), LIVE_ROOT=str(folder / "a-live")
    )
    edge, b = start(folder, env, "b", LIVE_ROOT=str(folder / "b-live"))
    procs = [a, b]
    try:
        room, key = make_room(origin, email)
        push = subprocess.Popen(
            push_argv(seconds + WARMUP_S + 8, rtmp_port, key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # stopped mid-push at the end: a broken pipe is expected
        )
        procs.append(push)
        deadline = time.monotonic() + 30
        while not live_on(origin, room):
            if time.monotonic() > deadline:
                raise SystemExit(f"the room never went live; see {folder}")
            time.sleep(0.2)
        time.sleep(WARMUP_S)
        stop = threading.Event()
        direct = Reader(f"{origin}/live/{room}/flv", stop)
        relayed = [Reader(f"{edge}/live/{room}/flv", stop) for _ in range(viewers)]
        for reader in (direct, *relayed):
            reader.start()
        time.sleep(seconds)
        stop.set()
        for reader in (direct, *relayed):
            reader.join(10)
        errors = [r.error for r in (direct, *relayed) if r.error]
        if errors:
            raise SystemExit(f"a reader failed: {errors[0]}")
        # Tags every reader saw (a relay viewer joins at a keyframe: a few later than direct).
        common = set(direct.arrivals)
        for reader in relayed:
            common &= set(reader.arrivals)
        stamps = sorted(common)
        clock = min(direct.arrivals[ts] - ts / 1000 for ts in stamps)
        direct_lag = [(direct.arrivals[ts] - clock - ts / 1000) * 1000 for ts in stamps]
        relay_lag = [(r.arrivals[ts] - clock - ts / 1000) * 1000 for r in relayed for ts in stamps]
        extra = [(r.arrivals[ts] - direct.arrivals[ts]) * 1000 for r in relayed for ts in stamps]
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    upstreams = (
        (folder / "a.log").read_text(errors="replace").count(f'/live/{room}/flv HTTP/1.1" 200')
    )
    print(f"{len(stamps)} video tags seen by all {viewers + 1} readers over {seconds:.0f} s")
    print(f"{'path':<28}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
    for name, values in (
        ("direct from A (reference)", direct_lag),
        (f"relayed through B (x{viewers})", relay_lag),
        ("relay extra per tag", extra),
    ):
        print(f"{name:<28}{pct(values, 0.5):8.1f}{pct(values, 0.95):8.1f}{max(values):8.1f}")
    print(f"FLV feeds A served: {upstreams} (the live check, the reference reader, B's one relay)")
    print(
        f"live_relay flv_direct_p50_ms={statistics.median(direct_lag):.1f}"
        f" flv_relay_p50_ms={statistics.median(relay_lag):.1f}"
        f" relay_extra_p50_ms={pct(extra, 0.5):.1f} relay_extra_p95_ms={pct(extra, 0.95):.1f}"
        f" viewers_on_b={viewers} flv_feeds_from_a={upstreams}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

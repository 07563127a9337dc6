"""A production web process (gunicorn with gunicorn.conf.py: the gevent worker) holds hundreds of
Socket.IO viewers and blocked playlist reloads while it answers pages, and drains on SIGTERM.

The threaded worker the README used to run (`-k gthread --threads 32`) stopped answering HTTP
at its 32nd open connection; 5,000 viewers are measured by `make bench-realtime`, not here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from commerce import webprocess
from tests.commerce.live.test_presence_scaleout import _signed_in
from tests.commerce.live.viewers import Viewers
from tests.media.live.test_blocking import playlist

VIEWERS = 300
PAGE_SECONDS = 2.0  # a page under load; idle it takes ~50 ms, a threaded process never answers


def _page_times(url: str, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        started = time.monotonic()
        response = requests.get(f"{url}{path}", timeout=10)
        times.append(time.monotonic() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times


@pytest.fixture
def live_folder(app, make_room):
    """A live room whose 720p playlist lists segments 10-12, as ffmpeg would have written it."""
    _api, room_id = make_room(live=True)
    folder = Path(app.config["LIVE_ROOT"]) / room_id
    (folder / "720p").mkdir(parents=True)
    (folder / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n")
    (folder / "720p" / "index.m3u8").write_text(playlist(10, 3))
    return room_id, folder


def _write_segment(folder: Path, first: int, count: int) -> None:
    path = folder / "720p" / "index.m3u8"
    path.with_suffix(".tmp").write_text(playlist(first, count))
    os.replace(path.with_suffix(".tmp"), path)


def _gunicorn(processes, app, **env: str):
    return processes.gunicorn(LIVE_ROOT=app.config["LIVE_ROOT"], **env)


def test_a_gevent_process_holds_hundreds_of_viewers_and_answers_pages(
    app, processes, live_folder, host, shelf
):
    room_id, _folder = live_folder
    url, _process = _gunicorn(processes, app)
    pages = ["/", f"/live/{room_id}", f"/api/v1/live/rooms/{room_id}"] * 5
    with Viewers(url, room_id, VIEWERS) as viewers:
        assert viewers.joined == VIEWERS  # ten times what a 32-thread process could hold
        times = _page_times(url, pages)
        assert max(times) < PAGE_SECONDS, times
        # and every viewer is still reached: a pin through the same process's API
        browser = _signed_in(url, host)
        token = browser.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        pinned = browser.post(
            f"{url}/api/v1/live/rooms/{room_id}/pins",
            json={"product_id": shelf[0].id},
            headers={"X-CSRFToken": token, "Referer": url},
            timeout=10,
        )
        assert pinned.status_code == 201, pinned.text
        assert viewers.wait_for("live.pins", VIEWERS), viewers.got("live.pins")
        assert viewers.dropped == 0


def test_blocked_playlist_reloads_do_not_hold_up_pages(app, processes, live_folder):
    room_id, folder = live_folder
    held = 64  # twice the threads of the old threaded worker, each waiting for segment 13
    url, _process = _gunicorn(processes, app, LIVE_HLS_BLOCKING_WAITS=str(held))
    answers: list[tuple[int, str]] = []

    def reload() -> None:
        response = requests.get(f"{url}/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13", timeout=10)
        answers.append((response.status_code, response.text))

    waiting = [threading.Thread(target=reload) for _ in range(held)]
    for thread in waiting:
        thread.start()
    time.sleep(0.5)  # all of them blocked in the process (a segment is 1 s: 3 s before a 503)
    times = _page_times(url, ["/", f"/live/{room_id}"] * 3)
    assert answers == [] and max(times) < PAGE_SECONDS, (answers, times)
    _write_segment(folder, 11, 3)  # segment 13 arrives: every reload is answered with it
    for thread in waiting:
        thread.join(10)
    assert len(answers) == held
    assert all(status == 200 and "seg_00013.ts" in text for status, text in answers)


def test_sigterm_finishes_a_request_in_flight_and_lets_viewers_go(app, processes, live_folder):
    room_id, folder = live_folder
    url, process = _gunicorn(processes, app)
    answer: list[requests.Response] = []

    def reload() -> None:
        answer.append(
            requests.get(f"{url}/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13", timeout=10)
        )

    with Viewers(url, room_id, 20) as viewers:
        in_flight = threading.Thread(target=reload)
        in_flight.start()
        time.sleep(0.3)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # viewers are cut at once (they would reconnect to another process), not at the
        # 30 s graceful_timeout; the request in flight is still waiting for its segment
        assert viewers.wait_for_drops(20, seconds=5), viewers.dropped
        assert answer == [] and process.poll() is None
        _write_segment(folder, 11, 3)
        in_flight.join(10)
        assert answer and answer[0].status_code == 200, answer
        assert "seg_00013.ts" in answer[0].text
        assert process.wait(10) == 0
        assert time.monotonic() - stopped_at < 10
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


def test_the_web_process_freezes_the_loaded_app_out_of_the_collector(
    app, processes, live_folder, tmp_path
):
    room_id, _folder = live_folder
    pauses = tmp_path / "gc"
    url, process = _gunicorn(processes, app, WEB_GC_PAUSES_FILE=str(pauses))
    with Viewers(url, room_id, 20) as viewers:
        assert viewers.joined == 20
        assert _page_times(url, [f"/live/{room_id}"] * 3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    written = list(tmp_path.glob("gc.*"))
    assert len(written) == 1, written  # the worker's, written as it exits
    first, *collections = written[0].read_text().splitlines()
    words = first.split()
    # the app's code and objects (~230,000 of them) are out of every collection's walk
    assert words[0] == "frozen" and int(words[1]) > 50_000, first
    assert first.endswith("threshold (50000, 20, 10)"), first
    assert all(line.split()[0] in "012" for line in collections if line)


# The rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "threshold"),
    [
        (None, (50_000, 20, 10)),
        ("", (50_000, 20, 10)),
        ("700,10,10", (700, 10, 10)),
        (" 1000, 5 ,0", (1000, 5, 0)),
        ("stock", None),
    ],
)
def test_the_gc_threshold_setting(setting, threshold):
    assert webprocess.gc_threshold(setting) == threshold


@pytest.mark.parametrize("setting", ["50000", "a,b,c", "0,10,10", "1,2,3,4", "10,-1,10"])
def test_a_wrong_gc_threshold_is_refused(setting):
    with pytest.raises(RuntimeError, match="WEB_GC_THRESHOLD"):
        webprocess.gc_threshold(setting)


@pytest.mark.parametrize(
    ("setting", "patched", "mode"),
    [
        ("auto", True, "gevent"),
        ("auto", False, "threading"),
        ("threading", False, "threading"),
        ("gevent", True, "gevent"),
        ("gevent", False, "gevent"),  # kept: Flask-SocketIO then runs its own gevent server
    ],
)
def test_the_async_mode_follows_the_process(setting, patched, mode):
    assert webprocess.async_mode(setting, patched) == mode


def test_an_unknown_async_mode_is_refused():
    with pytest.raises(RuntimeError, match="SOCKETIO_ASYNC_MODE"):
        webprocess.async_mode("eventlet", True)


@pytest.mark.parametrize(
    ("mode", "url", "pool"),
    [
        ("gevent", "postgresql+psycopg://db/x", (20, 20)),
        ("threading", "postgresql+psycopg://db/x", (None, None)),
        ("gevent", "sqlite:///x.sqlite3", (None, None)),
    ],
)
def test_a_gevent_process_gets_a_larger_pool_on_a_server_database(mode, url, pool):
    options = webprocess.engine_options({"pool_pre_ping": True}, mode, url)
    assert (options.get("pool_size"), options.get("max_overflow")) == pool
    assert options["pool_pre_ping"] is True


def test_this_test_process_runs_on_threads(app):
    assert app.config["SOCKETIO_ASYNC_MODE"] == "threading"


PATCHED_QUERIES = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from app import create_app
from commerce.extensions import db
from sqlalchemy import text
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "x"})
assert app.config["SOCKETIO_ASYNC_MODE"] == "gevent", app.config["SOCKETIO_ASYNC_MODE"]
ticks = []
def ticker():
    while True:
        ticks.append(1)
        gevent.sleep(0.05)
def query():
    with app.app_context():
        db.session.execute(text("SELECT pg_sleep(0.5)"))
        db.session.remove()
gevent.spawn(ticker)
started = time.monotonic()
gevent.joinall([gevent.spawn(query) for _ in range(4)])
print(round(time.monotonic() - started, 2), len(ticks))
"""


def test_psycopg_yields_to_other_greenlets_in_a_patched_process(database_url):
    """Four half-second queries at once take about half a second, and a ticker goes on."""
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg is the PostgreSQL driver (TEST_DATABASE_URL)")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", PATCHED_QUERIES, database_url],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LIVE_RTMP_PORT": "0"},
    )
    assert done.returncode == 0, done.stderr
    seconds, ticks = done.stdout.split()
    assert float(seconds) < 1.5, seconds  # in turn, they would take 2 s
    assert int(ticks) >= 8, ticks  # the hub kept running while they waited


def test_a_psycopg_imported_before_patching_is_refused(monkeypatch):
    import psycopg.waiting

    monkeypatch.setattr(webprocess, "gevent_patched", lambda: True)
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    settings = {"SOCKETIO_ASYNC_MODE": "auto", "SQLALCHEMY_DATABASE_URI": "postgresql://x/y"}
    with pytest.raises(RuntimeError, match="preload"):
        webprocess.configure(settings)

"""Glass-to-glass latency in a real browser: what a viewer of the live room page sees.

The app runs for real (create_app with SQLite in a temporary folder, its RTMP ingest, werkzeug on
a port, as the e2e tests run it); a creator's room gets a stream key through the studio's use
cases; one stamped source (bench/live_latency_bench.py source_argv: the wall-clock ms as a
24-bit stripe in every frame) is pushed over RTMP to the key as OBS would. Debian's Chromium,
through Playwright, opens /live/<room> on a phone viewport, several pages at once from the same
source (--pages):

  browser-ll     the page's default where MSE exists: mpegts.js on the FLV WebSocket
  browser-hlsjs  the page after a tap on its own "Low latency" toggle, in a browser without
                 native HLS (canPlayType hidden): hls.js with live-player.js's settings
  browser-hls    the same tap in Chromium as it is (the page prefers hls.js wherever MSE
                 exists, so this is hls.js too since Chromium 156's own player sat 4-6 s behind)
  browser-nginx  the reference played alike: nginx-rtmp's HLS, served by nginx (as its README
                 sets it up) to a page nginx also serves, played by live-player.js unchanged
                 (same hls.js, same settings, same browser). Diagnostics, same page: ours-nginx
                 and ours720-nginx (our folder served by nginx: master, 720p rung), app-nginx and
                 app720-nginx (the app's answers through an nginx proxy)

In each page, requestVideoFrameCallback reads the stripe of every presented frame from a canvas
(bench/live_browser_probe.js): latency = shown - stamp, same machine, same clock. "Shown" is
performance.timeOrigin + metadata.expectedDisplayTime, the compositor's estimate of when the
frame reaches the screen: it does not depend on how late a busy renderer ran the callback (the
callback's Date.now() is kept, and the difference printed).

References from the same source in the same run (bench/live_latency_bench.py's viewers):
  ours-ll      the room's FLV tags arriving at a socket subscriber: the gap to browser-ll is
               the player (MSE buffering, mpegts.js latency chasing)
  ours-hls     the room's playlist with the modelled player (2 segments behind the edge)
  nginx, bare  nginx-rtmp HLS (a remux) and, with --bare, bare ffmpeg HLS, same model
Frames of the first WARMUP_S after each page starts playing, and of the last TAIL_S of the
stream, are left out.
hls.js pages also report what hls.js itself saw: level switches, buffer stalls, the latency it
aims at (it adds a second per stall at 1 s segments, for the session) and errors.
Usage: python bench/live_browser_latency_bench.py [seconds] [--pages ll,hlsjs,nginx] [--bare]
(make bench-live-browser runs "ll,hlsjs" and then "hlsjs,nginx": three pages at once on two
cores drop frames.)
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.live_browser_pages import HLS_TRACE_TAKE, NGINX_PAGES, open_reference, open_room
from bench.live_browser_report import PageResult, report
from bench.live_browser_support import (
    CpuMeter,
    Served,
    Ticker,
    children_of,
    command_name,
    cpu_pressure,
    free_port,
    make_app,
    make_room,
    nginx_player_site,
    wait_live,
)
from bench.live_latency_bench import (
    SEGMENT_S,
    WARMUP_S,
    HlsWatch,
    bare_argv,
    capture_low_latency,
    decode_stamps,
    source_argv,
    start_nginx,
    stop_process,
)
from media.live.session import LiveRoom as MediaRoom
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

TAIL_WAIT_S = 6.0  # after the source stops: the HLS page is seconds behind, let it play out
# Our ladder's rungs come from one ffmpeg and are cut together: the 360p playlist lists each
# segment when the 720p one does, so one watch serves both (checked: identical figures).
OUR_PLAYLIST = "720p"


def low_latency_capture(media: MediaRoom, path: str, arrivals: list[float]) -> threading.Thread:
    """capture_low_latency in a thread of its own."""
    thread = threading.Thread(
        target=capture_low_latency, args=(media, path, arrivals), daemon=True, name="ll-capture"
    )
    thread.start()
    return thread


def kill_leftovers() -> list[str]:
    """Anything this run started that is still running (it should be nothing): end it by pid."""
    left = []
    for pid in children_of(os.getpid()):
        left.append(f"{command_name(pid)}[{pid}]")
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


@dataclass
class Measured:
    """What one run collected, analysed once every process is gone."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    ll_arrivals: list[float] = field(default_factory=list)
    watches: list[HlsWatch] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def watch_playlists(work: str, room_dir: str, nginx_playlist: str | None, bare_dir: str | None):
    playlists = [("ours-hls", os.path.join(room_dir, OUR_PLAYLIST, "index.m3u8"))]
    if nginx_playlist:
        playlists.append(("nginx", nginx_playlist))
    if bare_dir:
        playlists.append(("bare", os.path.join(bare_dir, "index.m3u8")))
    watches = []
    for name, playlist in playlists:
        keep = os.path.join(work, "keep-" + name)
        os.makedirs(keep)
        watches.append(HlsWatch(name, playlist, keep))
    return watches


def measure(work: str, duration_s: float, with_bare: bool, kinds: list[str], out: Measured) -> None:
    """The app, the source, the references and both pages; every process stops, come what may."""
    from playwright.sync_api import sync_playwright

    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:  # unwinds in reverse: pages, watchers, the app (and its ffmpeg)
        try:
            app = make_app(work, SEGMENT_S)
            public_id, key = make_room(app)
            served = Served.start(app)
            stack.callback(served.close)
            http_port = free_port()
            site = nginx_player_site(work, http_port, app.config["LIVE_ROOT"], served.server.url)
            nginx, nginx_playlist = start_nginx(work, port := free_port(), site)
            if nginx is None and "nginx" in kinds:
                raise RuntimeError("--pages nginx needs nginx and libnginx-mod-rtmp")
            outputs = [f"{served.rtmp_url}/{key}".replace(":", "\\:")]
            if nginx is not None:
                procs.append(nginx)
                outputs.append(f"rtmp\\://127.0.0.1\\:{port}/live/bench")
            bare_dir = os.path.join(work, "bare") if with_bare else None
            bare = None
            if bare_dir:
                os.makedirs(bare_dir)
                bare = subprocess.Popen(bare_argv(bare_dir), stdin=subprocess.PIPE)
                procs.append(bare)
                outputs.append("pipe\\:1")
            started = time.monotonic()
            source = subprocess.Popen(
                source_argv(duration_s, outputs),
                stdout=bare.stdin if bare is not None else subprocess.DEVNULL,
            )
            procs.insert(0, source)  # stopped first: nothing pushes into a closed ingest
            if bare is not None and bare.stdin is not None:
                bare.stdin.close()
            out.notes["went_live_s"] = wait_live(app, public_id, 30, lambda: source.poll() is None)
            media = served.live.media_room(public_id)
            if media is None:
                raise RuntimeError("the room is live but its media is not in this process")
            ll_path = os.path.join(work, "ll.flv")
            out.notes["ll_path"] = ll_path
            capture = low_latency_capture(media, ll_path, out.ll_arrivals)
            room_dir = os.path.join(app.config["LIVE_ROOT"], public_id)
            out.watches = watch_playlists(
                work, room_dir, nginx_playlist if nginx is not None else None, bare_dir
            )
            stack.callback(Ticker(lambda: [w.poll() for w in out.watches], 0.02).start().stop)
            meter = cpu_meter(source, media, bare, nginx)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    out.notes["browser"] = browser.version
                    url = f"{served.server.url}/live/{public_id}"
                    pages = {}
                    for kind in kinds:
                        if kind in NGINX_PAGES:
                            ref = f"http://127.0.0.1:{http_port}/" + NGINX_PAGES[kind].format(
                                room=public_id
                            )
                            page, player = open_reference(browser, ref, kind, out.errors)
                        else:
                            page, player = open_room(browser, url, kind, out.errors)
                        pages[f"browser-{kind}"] = page
                        out.notes[f"player:browser-{kind}"] = player
                    out.notes["pages_open_s"] = time.monotonic() - started
                    waiter = pages[f"browser-{kinds[-1]}"]
                    waiter.wait_for_timeout(WARMUP_S * 1000)  # CPU from here: steady state
                    meter.mark()
                    while source.poll() is None and time.monotonic() - started < duration_s + 60:
                        waiter.wait_for_timeout(250)
                        # Read while every process still runs: one that exited reads as idle.
                        if time.monotonic() - started < duration_s - 1:
                            out.cpu = meter.rates()
                            out.notes["load"] = os.getloadavg()[0]
                            out.notes["pressure"] = cpu_pressure()
                    out.notes["source_rc"] = source.wait(10)
                    waiter.wait_for_timeout(TAIL_WAIT_S * 1000)
                    for name, page in pages.items():
                        out.pages[name] = page.evaluate("() => window.__latencyProbe.take()")
                        out.pages[name]["hls"] = page.evaluate(HLS_TRACE_TAKE)
                finally:
                    browser.close()
            served.close()  # ends the room: the FLV subscription, and so the capture, ends too
            capture.join(10)
        finally:
            for proc in procs:
                stop_process(proc)


def cpu_meter(source, media: MediaRoom, bare, nginx) -> CpuMeter:
    me = os.getpid()
    groups = {
        "source": lambda: [source.pid],
        "ours": lambda: [p] if (p := media.ffmpeg_pid) else [],
        "chromium": lambda: [p for p in children_of(me) if command_name(p).startswith("chrom")],
        "python": lambda: [me],
    }
    if bare is not None:
        groups["bare"] = lambda: [bare.pid]
    if nginx is not None:
        groups["nginx"] = lambda: [nginx.pid, *children_of(nginx.pid)]
    return CpuMeter(groups)


def run(duration_s: float, with_bare: bool, kinds: list[str]) -> int:
    work = tempfile.mkdtemp(prefix="live-browser-bench-")
    try:
        out = Measured(notes={"load_before": os.getloadavg()[0]})
        try:
            measure(work, duration_s, with_bare, kinds, out)
        finally:
            left = kill_leftovers()
            if left:
                print(f"WARNING: processes still running after the run were killed: {left}")
        ll_path = out.notes["ll_path"]
        ll_stamps = decode_stamps(ll_path, "flv") if os.path.getsize(ll_path) else []
        return report(
            duration_s=duration_s,
            browser_version=out.notes.get("browser", "?"),
            results={name: PageResult.from_probe(name, raw) for name, raw in out.pages.items()},
            ll_frames=list(zip(ll_stamps, out.ll_arrivals, strict=False)),
            watches=out.watches,
            cpu=out.cpu,
            errors=out.errors,
            notes=out.notes,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("seconds", nargs="?", type=float, default=40.0, help="stream length")
    # Off by default: its 720p veryfast encode (~0.3 core) on top of two pages takes a 2-core
    # box past real time. nginx-rtmp (a remux, ~0.01 core) and the socket are always measured.
    parser.add_argument("--bare", action="store_true", help="add the bare ffmpeg HLS reference")
    parser.add_argument(
        "--pages",
        default="ll,hlsjs,nginx",
        help="pages at once: ll (the room page's default player), hls (the room page toggled to"
        " HLS), hlsjs (the same with native HLS hidden), nginx (nginx-rtmp's HLS, served by"
        " nginx, played by the room page's player module)",
    )
    args = parser.parse_args()
    kinds = [k for k in args.pages.split(",") if k]
    if not kinds or set(kinds) - {"ll", "hls", "hlsjs", *NGINX_PAGES}:
        parser.error(f"--pages takes ll, hls, hlsjs, {', '.join(NGINX_PAGES)}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per segment otherwise
    # make (or a CI runner) stops us with SIGTERM: unwind so every process and folder goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(run(args.seconds, args.bare, kinds))


if __name__ == "__main__":
    main()

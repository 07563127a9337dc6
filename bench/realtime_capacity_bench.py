"""Realtime capacity: 5,000 Socket.IO viewers in one room across two web processes.

Ours: two production web processes (gunicorn with gunicorn.conf.py: gevent worker) behind one
Redis message queue, on one database; the viewers (bench/socketio_viewers.py, in separate
processes, half on each web process) join the live room with `live.join`; the creator POSTs
/api/v1/live/rooms/<id>/pins to the first process (or DELETEs the pin), which commits and
broadcasts `live.pins` through Redis. Meanwhile a loader GETs the room's page from both
processes, ten times a second. Reported: pin delivery to the last viewer (p50/p99 over the
rounds), every delivery, the page's p50/p95/p99, the server memory per connection.
The reference, same run: two bare python-socketio processes in the same async mode (gevent)
behind the same Redis (bench/socketio_bare.py), broadcasting the same payload to as many
viewers of their own, and serving a static page. Both audiences stay connected and the rounds
alternate between the two, so both see the same load on a shared machine. First, the threaded
worker the README ran before (`-k gthread --threads 32`) is offered 64 viewers, then a page.

    python bench/realtime_capacity_bench.py [--viewers 5000] [--rounds 20]
        [--database-url URL] [--redis-url URL] [--clients 4] [--processes 2] [--no-gthread]

`--processes 1` puts every viewer on one web process (the per-process capacity).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pin_fanout_bench import SECRET, free_port, pct, prepare  # noqa: E402

TARGET_P99_MS = 500
TARGET_RATIO = 1.2


# Processes --------------------------------------------------------------------------------


def wait_up(url: str, process: subprocess.Popen, path: str = "/") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(url + path, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def gunicorn(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def worker_rss_kib(master: subprocess.Popen) -> int:
    """The gunicorn worker's resident memory (the master only supervises)."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    total = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def stop(process: subprocess.Popen) -> float:
    """SIGTERM and the seconds until it exited (the drain of a deploy)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    return time.monotonic() - started


class Audience:
    """The viewer processes: each holds its share of the viewers, spread over the urls."""

    def __init__(self, urls: list[str], viewers: int, clients: int, join: str, data: Any):
        self.processes = []
        for n in range(clients):
            share = viewers // clients + (1 if n < viewers % clients else 0)
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "socketio_viewers.py"),
                        "--urls",
                        ",".join(urls[n % len(urls) :] + urls[: n % len(urls)]),
                        "--viewers",
                        str(share),
                        "--join",
                        join,
                        "--data",
                        json.dumps(data),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )

    def joined(self) -> tuple[int, int, float]:
        ok = failed = 0
        slowest = 0.0
        for process in self.processes:
            line = process.stdout.readline().split()
            assert line and line[0] == "joined", line
            ok, failed = ok + int(line[1]), failed + int(line[2])
            slowest = max(slowest, float(line[3]))
        return ok, failed, slowest

    def arrivals(self, number: int) -> list[float]:
        for process in self.processes:
            process.stdin.write(f"round {number}\n")
            process.stdin.flush()
        found: list[float] = []
        for process in self.processes:
            word, got, values = process.stdout.readline().split(" ", 2)
            assert word == "arrivals" and int(got) == number, (word, got)
            found.extend(json.loads(values))
        return found

    def close(self) -> None:
        for process in self.processes:
            try:
                process.stdin.write("quit\n")
                process.stdin.flush()
                process.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait(10)


class PageLoader(threading.Thread):
    """GETs a page from each process in turn, every `period` seconds; records each latency."""

    def __init__(self, urls: list[str], period: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.urls, self.period = urls, period
        self.times: list[float] = []
        self.errors = 0
        self._halt = threading.Event()

    def run(self) -> None:
        with requests.Session() as http:
            number = 0
            while not self._halt.is_set():
                started = time.monotonic()
                try:
                    response = http.get(self.urls[number % len(self.urls)], timeout=10)
                    if response.status_code != 200:
                        self.errors += 1
                    self.times.append(time.monotonic() - started)
                except requests.RequestException:
                    self.errors += 1
                number += 1
                self._halt.wait(max(0.0, self.period - (time.monotonic() - started)))

    def finish(self) -> None:
        self._halt.set()
        self.join(15)


# Runs -------------------------------------------------------------------------------------


class Setup:
    """The web processes of one kind (ours or bare), their audience and their page loader."""

    def __init__(self, name: str, servers: list[subprocess.Popen], urls: list[str]) -> None:
        self.name, self.servers, self.urls = name, servers, urls
        self.audience: Audience | None = None
        self.pages: PageLoader | None = None
        self.outcome: dict[str, Any] = {"last": [], "each": [], "missing": [0]}
        self.trigger: Any = None

    def connect(self, args: Any, join: str, data: Any) -> None:
        self.audience = Audience(self.urls, args.viewers, args.clients, join, data)
        ok, failed, self.outcome["connect_s"] = self.audience.joined()
        self.audience.expected = ok
        self.outcome["joined"], self.outcome["failed"] = ok, failed

    def round(self, number: int) -> None:
        assert self.audience is not None
        sent = time.monotonic()
        self.trigger(number)
        arrivals = self.audience.arrivals(number)
        self.outcome["missing"][0] += self.audience.expected - len(arrivals)
        delays = [moment - sent for moment in arrivals]
        self.outcome["last"].append(max(delays) if delays else float("inf"))
        self.outcome["each"].extend(delays)

    def stop(self) -> None:
        if self.pages is not None:
            self.outcome["pages"], self.outcome["page_errors"] = self.pages.times, self.pages.errors
        if self.audience is not None:
            self.audience.close()
        for server in self.servers:
            if server.poll() is None:
                stop(server)


def start_ours(
    url_db: str, facts: dict[str, Any], redis_url: str, work: Path, processes: int, gc: str
) -> Setup:
    env = {
        "WEB_GC_THRESHOLD": gc,
        "WEB_GC_PAUSES_FILE": str(work / "gc-pauses"),
        "DATABASE_URL": url_db,
        "SECRET_KEY": SECRET,
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "REDIS_URL": redis_url,
        "JOBS_MODE": "worker",
        "LIVE_RTMP_PORT": "0",
        "LIVE_ROOT": str(work / "live"),
        "STORAGE_LOCAL_ROOT": str(work / "storage"),
    }
    ports = [free_port() for _ in range(processes)]
    servers = [
        gunicorn(["-b", f"127.0.0.1:{p}", "app:create_app()"], env, ROOT, work / f"web-{p}.log")
        for p in ports
    ]
    setup = Setup("ours", servers, [f"http://127.0.0.1:{p}" for p in ports])
    for url, server in zip(setup.urls, servers, strict=True):
        wait_up(url, server, "/api/v1/auth/csrf")
    pins = f"{setup.urls[0]}/api/v1/live/rooms/{facts['room']}/pins"
    setup.outcome["payload"] = requests.get(pins, timeout=10).json()
    http = requests.Session()
    headers = {
        "Cookie": f"session={facts['cookie']}",
        "X-CSRFToken": facts["csrf"],
        "Content-Type": "application/json",
    }

    def trigger(number: int) -> None:
        if number % 2 == 0:
            body = json.dumps({"product_id": facts["product"]})
            response = http.post(pins, data=body, headers=headers, timeout=30)
        else:
            response = http.delete(f"{pins}/{facts['product']}", headers=headers, timeout=30)
        assert response.status_code in (200, 201), (response.status_code, response.text)

    setup.trigger = trigger
    setup.pages = PageLoader([f"{url}/live/{facts['room']}" for url in setup.urls])
    return setup


def start_bare(redis_url: str, payload: Any, work: Path, processes: int) -> Setup:
    ports = [free_port() for _ in range(processes)]
    options = ["-k", "gevent", "--worker-connections", "10000", "--no-control-socket"]
    servers = [
        gunicorn(
            [*options, "-b", f"127.0.0.1:{p}", "socketio_bare:app"],
            {"BARE_REDIS_URL": redis_url},
            ROOT / "bench",
            work / f"bare-{p}.log",
        )
        for p in ports
    ]
    setup = Setup("bare", servers, [f"http://127.0.0.1:{p}" for p in ports])
    for url, server in zip(setup.urls, servers, strict=True):
        wait_up(url, server, "/page")
    http, body = requests.Session(), json.dumps(payload)

    def trigger(_number: int) -> None:
        assert http.post(setup.urls[0], data=body, timeout=30).status_code == 201

    setup.trigger = trigger
    setup.pages = PageLoader([f"{url}/page" for url in setup.urls])
    return setup


def run_both(args: Any, url_db: str, facts: dict[str, Any], redis_url: str, work: Path):
    """Both audiences connected at once; rounds alternate ours, bare, ours...: a shared machine's
    load changes from minute to minute, and both then see the same."""
    ours = bare = None
    try:
        ours = start_ours(url_db, facts, redis_url, work, args.processes, args.gc)
        rss_before = sum(worker_rss_kib(s) for s in ours.servers)
        ours.connect(args, "live.join", {"room": facts["room"]})
        time.sleep(2)  # the last joins' counters go out
        rss = sum(worker_rss_kib(s) for s in ours.servers) - rss_before
        ours.outcome["kib_per_conn"] = rss / max(ours.outcome["joined"], 1)
        bare = start_bare(redis_url, ours.outcome["payload"], work, args.processes)
        bare.connect(args, "join", "room")
        for setup in (ours, bare):
            setup.pages.start()
        for number in range(args.rounds):
            for setup in (ours, bare):
                setup.round(number)
                time.sleep(0.4)  # the counters' ticks and acks settle between rounds
        for setup in (ours, bare):
            setup.pages.finish()
        # A deploy: SIGTERM with every viewer still connected; seconds until both have exited.
        ours.outcome["drain_s"] = max(stop(server) for server in ours.servers)
        ours.outcome["gc"] = gc_pauses(work)
    finally:
        for setup in (ours, bare):
            if setup is not None:
                setup.stop()
    return ours.outcome, bare.outcome


def gc_pauses(work: Path) -> dict[str, float]:
    """The web processes' collections (gunicorn.conf.py writes them as each process exits)."""
    pauses = [
        float(line.split()[1])
        for path in work.glob("gc-pauses.*")
        for line in path.read_text().splitlines()[1:]
        if line
    ]
    return {"count": len(pauses), "total_ms": sum(pauses), "max_ms": max(pauses, default=0.0)}


def gthread_check(
    url_db: str, facts: dict[str, Any], work: Path, viewers: int = 64
) -> tuple[int, bool]:
    """The README's former command: how many of 64 viewers join, and does a page still answer?"""
    port = free_port()
    env = {"DATABASE_URL": url_db, "SECRET_KEY": SECRET, "LIVE_RTMP_PORT": "0"}
    args = ["-k", "gthread", "--threads", "32", "-w", "1", "-b", f"127.0.0.1:{port}"]
    server = gunicorn([*args, "app:create_app()"], env, ROOT, work / "gthread.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url, server, "/api/v1/auth/csrf")
        viewers_process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "socketio_viewers.py"),
                *("--urls", url, "--viewers", str(viewers), "--join", "live.join"),
                *("--data", json.dumps({"room": facts["room"]}), "--concurrency", "64"),
                *("--timeout", "10"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        joined = 0
        try:
            line = viewers_process.stdout.readline().split()  # joins give up after 20 s
            joined = int(line[1]) if line and line[0] == "joined" else 0
            try:
                answered = requests.get(f"{url}/live/{facts['room']}", timeout=5).ok
            except requests.RequestException:
                answered = False
        finally:
            viewers_process.kill()
            viewers_process.wait(10)
        return joined, answered
    finally:
        server.kill()
        server.wait(10)


# Report -----------------------------------------------------------------------------------


def describe(name: str, outcome: dict[str, Any]) -> None:
    print(
        f"  {name}: {outcome['joined']} joined ({outcome['failed']} failed) in "
        f"{outcome['connect_s']:.0f} s; pin to the last viewer p50 {pct(outcome['last'], 0.5):.0f}"
        f" ms, p99 {pct(outcome['last'], 0.99):.0f} ms; every delivery p50 "
        f"{pct(outcome['each'], 0.5):.0f} ms, p99 {pct(outcome['each'], 0.99):.0f} ms "
        f"({outcome['missing'][0]} missed); page p50 {pct(outcome['pages'], 0.5):.0f} ms, "
        f"p95 {pct(outcome['pages'], 0.95):.0f} ms, p99 {pct(outcome['pages'], 0.99):.0f} ms "
        f"({len(outcome['pages'])} pages, {outcome['page_errors']} errors)"
    )


def start_redis(work: Path) -> tuple[str, subprocess.Popen | None]:
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=work,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/0", server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4, help="viewer processes")
    parser.add_argument("--processes", type=int, default=2, help="web processes of each kind")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--no-gthread", action="store_true")
    parser.add_argument(
        "--gc",
        default="",
        help="our processes' WEB_GC_THRESHOLD (empty: the app's default; stock: CPython's)",
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every process here
    work = Path(tempfile.mkdtemp(prefix="realtime-bench-"))
    url_db = args.database_url or f"sqlite:///{work}/bench.sqlite3"
    redis_url, redis_server = args.redis_url, None
    if not redis_url:
        redis_url, redis_server = start_redis(work)
    print(
        f"realtime capacity: {args.viewers} Socket.IO viewers in one room across "
        f"{args.processes} web process(es), {args.rounds} pin rounds "
        f"({url_db.split(':')[0]}, open files {hard})"
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks: no leftovers
    try:
        facts = prepare(url_db)
        gthread = None
        if not args.no_gthread:
            gthread = gthread_check(url_db, facts, work)
            print(
                f"  gunicorn -k gthread --threads 32: {gthread[0]} of 64 viewers joined; a page "
                f"{'answered' if gthread[1] else 'did not answer within 5 s'}"
            )
        ours, bare = run_both(args, url_db, facts, redis_url, work)
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
    describe("ours (gevent web processes, POST pin -> commit -> live.pins)", ours)
    describe("bare python-socketio broadcast, gevent, same Redis        ", bare)
    ratio = pct(ours["last"], 0.99) / max(pct(bare["last"], 0.99), 0.001)
    collected = ours["gc"]
    print(
        f"  garbage collection in our web processes ({args.gc or 'default'}): "
        f"{collected['count']} collections, {collected['total_ms'] / 1000:.1f} s in all, "
        f"longest {collected['max_ms']:.0f} ms"
    )
    print(
        f"  memory {ours['kib_per_conn']:.0f} KiB per connection; SIGTERM drained both web "
        f"processes in {ours['drain_s']:.1f} s; targets: last-viewer p99 <= {TARGET_P99_MS} ms "
        f"and <= {TARGET_RATIO}x bare (ours/bare p99 {ratio:.2f})"
    )
    shutil.rmtree(work, ignore_errors=True)
    figures = {
        "viewers": ours["joined"],
        "failed_joins": ours["failed"],
        "pin_last_p50_ms": round(pct(ours["last"], 0.5)),
        "pin_last_p99_ms": round(pct(ours["last"], 0.99)),
        "bare_last_p50_ms": round(pct(bare["last"], 0.5)),
        "bare_last_p99_ms": round(pct(bare["last"], 0.99)),
        "ratio_p99": round(ratio, 2),
        "page_p99_ms": round(pct(ours["pages"], 0.99)),
        "bare_page_p99_ms": round(pct(bare["pages"], 0.99)),
        "kib_per_conn": round(ours["kib_per_conn"]),
        "drain_s": round(ours["drain_s"], 1),
        "gc_total_s": round(collected["total_ms"] / 1000, 1),
        "gc_longest_ms": round(collected["max_ms"]),
    }
    if gthread is not None:
        figures["gthread_joined_of_64"] = gthread[0]
    print(" ".join(f"{name}={value}" for name, value in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

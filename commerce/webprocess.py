"""What a web process needs to hold thousands of Socket.IO viewers: gevent, and a database
driver that waits cooperatively.

A threaded worker spends one thread per open connection: `gunicorn -k gthread --threads 32`
held 32 viewers and then stopped answering HTTP altogether (docs/scale.md). Under gunicorn's
gevent worker (gunicorn.conf.py) a connection is a greenlet, so a process holds thousands.
That only works if nothing blocks the hub:
- gunicorn's gevent worker monkey-patches the standard library in the worker, before it imports
  the app. Nothing may be imported earlier (no `preload_app`): psycopg chooses how it waits for
  the server when it is imported, and a psycopg imported unpatched waits in C, freezing every
  greenlet of the process for each query. `configure` refuses to start in that state.
- psycopg 3 imported after patching waits through Python's (patched) `select.poll`: each query
  yields to the other greenlets (tests/commerce/live/test_web_process.py checks it does).
- the database pool bounds how many greenlets query at once: larger than a threaded process's
  default, since a viewer joining needs a connection for a few queries.

Live ingest (ffmpeg subprocesses fed by threads, the RTMP server's asyncio loop) stays out of
gevent processes: it runs in `flask serve` or `flask live-ingest` (threading mode).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

ASYNC_MODES = ("auto", "threading", "gevent")
# Connections a gevent web process may open to PostgreSQL: 20 kept, 20 more in bursts. Two web
# processes then use at most 80 of PostgreSQL's default 100, leaving room for job workers.
GEVENT_POOL_SIZE = 20
GEVENT_MAX_OVERFLOW = 20


def gevent_patched() -> bool:
    """True in a process whose sockets gevent has monkey-patched (gunicorn's gevent worker)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def async_mode(setting: str, patched: bool) -> str:
    """Flask-SocketIO's async mode: `auto` follows the process, an explicit mode is kept."""
    if setting not in ASYNC_MODES:
        raise RuntimeError(f"SOCKETIO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    if setting == "auto":
        return "gevent" if patched else "threading"
    return setting


def engine_options(base: Mapping[str, Any], mode: str, database_url: str) -> dict[str, Any]:
    """SQLAlchemy engine options: a larger pool for a gevent process on a server database
    (SQLite's pools take no size, and one file allows one writer anyway)."""
    options = dict(base)
    if mode == "gevent" and not database_url.startswith("sqlite"):
        options.setdefault("pool_size", GEVENT_POOL_SIZE)
        options.setdefault("max_overflow", GEVENT_MAX_OVERFLOW)
    return options


def psycopg_waits_cooperatively() -> bool:
    """Whether psycopg (if imported) waits for the server through Python, where gevent yields."""
    waiting = sys.modules.get("psycopg.waiting")
    if waiting is None:
        return True  # imported later, after the patching, it chooses the cooperative wait
    return getattr(waiting, "wait", None) is not getattr(waiting, "wait_c", None)


def configure(settings: dict[str, Any]) -> None:
    """Resolve SOCKETIO_ASYNC_MODE and the pool for this process; refuse a blocking driver."""
    patched = gevent_patched()
    mode = async_mode(str(settings["SOCKETIO_ASYNC_MODE"]), patched)
    if mode == "gevent" and patched and not psycopg_waits_cooperatively():
        raise RuntimeError(
            "psycopg was imported before gevent patched this process, so every query would "
            "block all connections: do not preload the app (gunicorn --preload)"
        )
    settings["SOCKETIO_ASYNC_MODE"] = mode
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        settings.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        mode,
        str(settings["SQLALCHEMY_DATABASE_URI"]),
    )


# The garbage collector in a process holding thousands of connections -------------------------

# Young objects between collections: CPython's 700 collects the youngest generation thousands of
# times a minute under a room's traffic, and the collections that follow (older generations) walk
# every connection's objects: pauses of 0.3-4.8 s on 2 busy cores in `make bench-realtime`,
# each one a pin that every viewer of the process receives late.
WEB_GC_THRESHOLD = (50_000, 20, 10)


def gc_threshold(setting: str | None) -> tuple[int, int, int] | None:
    """WEB_GC_THRESHOLD ("50000,20,10"; empty: the default) as gc.set_threshold's three numbers;
    `stock` (None) leaves CPython's collector as it is: nothing frozen, its own thresholds."""
    if not setting:
        return WEB_GC_THRESHOLD
    if setting.strip() == "stock":
        return None
    try:
        numbers = tuple(int(part) for part in setting.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != 3 or numbers[0] < 1 or min(numbers) < 0:
        raise RuntimeError(
            f"WEB_GC_THRESHOLD must be three counts like 50000,20,10 or stock, not {setting!r}"
        )
    return numbers[0], numbers[1], numbers[2]


def settle_heap(threshold: tuple[int, int, int] | None, pauses_file: str | None = None) -> None:
    """gunicorn's post_worker_init, once the app is loaded: the ~230,000 objects of the code and
    the app (modules, functions, SQLAlchemy's mappers, the templates) live as long as the process,
    so they are moved where the collector never walks them again (gc.freeze), and the youngest
    generation is collected less often. Measured in docs/scale.md ("Garbage collection").
    `pauses_file` (WEB_GC_PAUSES_FILE, for the bench) receives every collection's pause on exit."""
    import gc

    if threshold is not None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*threshold)
    if pauses_file:
        _record_pauses(pauses_file)


def _record_pauses(path: str) -> None:
    import atexit
    import gc
    import os
    import time

    started: list[float] = [0.0]
    pauses: list[str] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            milliseconds = (time.perf_counter() - started[0]) * 1000
            pauses.append(f"{info['generation']} {milliseconds:.2f} {info['collected']}")

    def write() -> None:
        with open(f"{path}.{os.getpid()}", "w") as out:
            out.write(f"frozen {gc.get_freeze_count()} threshold {gc.get_threshold()}\n")
            out.write("\n".join(pauses) + "\n")

    gc.callbacks.append(on_collection)
    atexit.register(write)


# Draining on SIGTERM ------------------------------------------------------------------------------

DRAIN_SWEEP_SECONDS = 0.5


def drain_on_sigterm(worker: Any) -> None:
    """gunicorn's post_worker_init: on SIGTERM the gevent worker stops accepting and lets its
    connections finish for up to graceful_timeout. HTTP requests in flight do finish; Socket.IO
    viewers would never end by themselves and would hold the process that long, so they are
    cut here (no Socket.IO close packet: the clients see a dropped transport and reconnect, to
    another process through the balancer)."""
    import signal

    if not gevent_patched():  # a threaded worker (-k gthread): gunicorn's own SIGTERM handling
        return
    import gevent

    app = worker.wsgi
    previous = worker.handle_exit

    def on_sigterm(signum: int, frame: Any) -> None:
        previous(signum, frame)
        gevent.spawn(_drop_viewers, app)

    signal.signal(signal.SIGTERM, on_sigterm)


def _drop_viewers(app: Any) -> None:
    import gevent

    hub = app.extensions.get("live_fanout")
    if hub is not None:
        hub.stop()  # its last tick withdraws this process from the rooms' viewer counts
    engine = app.extensions["socketio"].server.eio
    while True:  # until the worker exits: also whoever connected before the listener closed
        for socket in list(engine.sockets.values()):
            socket.close(wait=False, abort=True, reason=engine.reason.TRANSPORT_CLOSE)
        engine.sockets.clear()
        gevent.sleep(DRAIN_SWEEP_SECONDS)


def raise_open_files_limit() -> int:
    """Every viewer is a socket: lift the soft limit of open files to the hard one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft

"""The app's own processes (`flask serve`, `flask worker`) started for a test, stopped after it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# This run's Socket.IO channel and Redis key prefix: CI runs the SQLite and PostgreSQL suites side
# by side on one Redis, whose pub/sub ignores database numbers.
TEST_DEPLOYMENT = f"test-{uuid.uuid4().hex[:8]}"


def base_env(database_url: str, folder: Path) -> dict[str, str]:
    """What every process of one test deployment shares: database, secret, folders."""
    return {
        **os.environ,
        "FLASK_APP": "app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "DEPLOYMENT_NAME": TEST_DEPLOYMENT,
        "LIVE_RTMP_PORT": "0",
        "LIVE_ROOT": str(folder / "live"),
        "STORAGE_LOCAL_ROOT": str(folder / "storage"),
        "UPLOAD_TMP_DIR": str(folder / "uploads"),
        "WORK_DIR": str(folder / "work"),
    }


class Processes:
    """Starts `flask serve` and `flask worker` processes; each logs to its own file."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.folder = folder
        self.env = base_env(database_url, folder)
        self.started: list[tuple[subprocess.Popen[str], IO[str], Path]] = []
        self.served: dict[str, tuple[subprocess.Popen[str], dict[str, str]]] = {}  # url ->

    def _spawn(
        self, args: list[str], name: str, env: dict[str, str], module: str = "flask"
    ) -> subprocess.Popen[str]:
        path = self.folder / f"{name}.log"
        log = open(path, "w")  # noqa: SIM115  (closed by stop_all)
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append((process, log, path))
        return process

    def serve(self, port: int | None = None, **env: str) -> str:
        """A web process (with its in-process jobs unless JOBS_MODE=worker); returns its URL."""
        port = port or free_port()
        process = self._spawn(
            ["serve", "--port", str(port)], f"web-{port}-{len(self.started)}", env
        )
        url = f"http://127.0.0.1:{port}"
        self.served[url] = (process, env)
        return self._wait_until_up(url, process)

    def gunicorn(self, **env: str) -> tuple[str, subprocess.Popen[str]]:
        """A production web process as the README runs it (gunicorn.conf.py: gevent worker)."""
        port = free_port()
        args = ["-b", f"127.0.0.1:{port}", "app:create_app()"]
        process = self._spawn(args, f"gunicorn-{port}", {"JOBS_MODE": "worker", **env}, "gunicorn")
        return self._wait_until_up(f"http://127.0.0.1:{port}", process), process

    def _wait_until_up(self, url: str, process: subprocess.Popen[str]) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{url}/api/v1/auth/csrf", timeout=1).ok:
                    return url
            except (requests.ConnectionError, requests.Timeout):  # gunicorn binds first
                time.sleep(0.1)
        raise AssertionError(self.log_of(process))

    def stop(self, url: str) -> None:
        """Stop the web process at url (SIGTERM, as a deploy does); serve(port) starts it again."""
        process, _env = self.served.pop(url)
        process.terminate()
        process.wait(30)

    def worker(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """`flask worker` with its options (e.g. "--queues", "media")."""
        name = f"worker-{len(self.started)}"
        return self._spawn(["worker", *args], name, {"JOBS_MODE": "worker", **env})

    def ingest(self, port: int, **env: str) -> subprocess.Popen[str]:
        """`flask live-ingest` (one ingest node) listening for RTMP on `port`."""
        name = f"ingest-{len(self.started)}"
        process = self._spawn(["live-ingest"], name, {"LIVE_RTMP_PORT": str(port), **env})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if "RTMP ingest on" in self.log_of(process):
                return process
            time.sleep(0.1)
        raise AssertionError(self.log_of(process))

    def log_of(self, process: subprocess.Popen[str]) -> str:
        return next(path.read_text() for p, _log, path in self.started if p is process)

    def logs(self) -> str:
        return "\n".join(f"== {path.name}\n{path.read_text()}" for _p, _log, path in self.started)

    def stop_all(self) -> None:
        # Signal all first, then wait: each drains (a second or two) at the same time.
        for process, _log, _path in self.started:
            process.terminate()
        for process, log, _path in self.started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            log.close()


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[Processes]:
    running = Processes(database_url, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()

"""Several hosts on one machine: network namespaces on a bridge, each with its own address.

The root namespace is the services host (PostgreSQL, Redis and the S3 server, bound to the bridge
address only); every app node is a namespace that reaches them, and its peers, over the bridge
like a machine on a LAN. Nodes share no folders: each gets its own, storage is S3.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True)


def netns_available() -> bool:
    """Root with iproute2: what `ip netns add` needs."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


@dataclass
class Node:
    """One host: a namespace, an address, a private folder and the processes started on it."""

    name: str
    namespace: str
    address: str
    folder: Path
    processes: list[tuple[subprocess.Popen[str], IO[str], Path]] = field(default_factory=list)

    def spawn(self, argv: list[str], env: dict[str, str], label: str) -> subprocess.Popen[str]:
        """Start argv inside this host's namespace, logging to its folder."""
        log_path = self.folder / f"{label}.log"
        log = open(log_path, "a")  # noqa: SIM115  (closed by stop)
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, *argv],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a signal to the group reaches the app, not only `ip`
        )
        self.processes.append((process, log, log_path))
        return process

    def kill(self, process: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
        os.killpg(process.pid, sig)
        process.wait(30)

    def logs(self) -> str:
        return "\n".join(
            f"== {self.name}/{p.name}\n{p.read_text()[-4000:]}" for *_x, p in self.processes
        )

    def stop(self) -> None:
        for process, log, _path in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
            log.close()


class Network:
    """A bridge with the services host's address and one namespace per node."""

    def __init__(self, folder: Path) -> None:
        tag = f"{os.getpid() % 10000}"
        self.tag = tag
        self.subnet = f"10.{77 + os.getpid() % 100}.{os.getpid() % 250}"
        self.bridge = f"lsbr{tag}"
        self.services_address = f"{self.subnet}.1"
        self.folder = folder
        self.nodes: list[Node] = []

    def __enter__(self) -> Network:
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.services_address}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        return self

    def add_node(self, name: str) -> Node:
        index = len(self.nodes) + 11
        namespace = f"ls{self.tag}{name}"
        veth = f"ve{self.tag}{name}"
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        run("ip", "link", "set", veth, "master", self.bridge, "up")
        address = f"{self.subnet}.{index}"
        inside = ("ip", "netns", "exec", namespace, "ip")
        run(*inside, "addr", "add", f"{address}/24", "dev", "eth0")
        run(*inside, "link", "set", "eth0", "up")
        run(*inside, "link", "set", "lo", "up")
        folder = self.folder / name
        folder.mkdir(parents=True)
        node = Node(name, namespace, address, folder)
        self.nodes.append(node)
        return node

    def __exit__(self, *exc: object) -> None:
        for node in self.nodes:
            node.stop()
            subprocess.run(["ip", "netns", "del", node.namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def wait_http(url: str, timeout_s: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what or url} did not answer within {timeout_s:.0f} s")


class PostgresServer:
    """A PostgreSQL cluster of the test's own, listening on the services host's bridge address."""

    def __init__(self, address: str, port: int = 5433) -> None:
        # Outside pytest's private temp folders, which the postgres user cannot enter.
        self.folder = Path(tempfile.mkdtemp(prefix="liveshop-scale-pg-"))
        self.address, self.port = address, port
        self.bin = Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)

    def __enter__(self) -> PostgresServer:
        shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._as_postgres(
            str(self.bin / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(data)
        )
        lan = self.address.rsplit(".", 1)[0] + ".0/24"
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {lan} trust\n")  # the nodes on the bridge
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "pg.log"), "-w",
            "-o", f"-h {self.address} -p {self.port} -k {self.folder} -c max_connections=200",
            "start",
        )  # fmt: skip
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.address}:{self.port}/postgres"

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D",
             str(self.folder / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """A Redis of the test's own on the services host's bridge address."""

    def __init__(self, address: str, port: int = 6390) -> None:
        self.address, self.port = address, port
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RedisServer:
        self.process = subprocess.Popen(
            # The bridge is the deployment's private LAN: no password, so no protected mode.
            ["redis-server", "--bind", self.address, "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-h", self.address, "-p", str(self.port), "ping"], capture_output=True
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                self.__exit__()
                raise AssertionError("the test's Redis did not start")
            time.sleep(0.1)
        return self

    @property
    def url(self) -> str:
        return f"redis://{self.address}:{self.port}/0"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

"""The README's scale-out set-up on several hosts: two web nodes, a worker node, shared services.

Hosts are network namespaces (tests/scale/hosts.py); services live on the bridge address: a
PostgreSQL cluster, a Redis and moto's S3 server of the test's own. Every node runs the README's
own commands with its own folders; storage is S3, so nodes share no disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.processes import ROOT, TEST_DEPLOYMENT
from tests.scale.hosts import Network, Node, PostgresServer, RedisServer, wait_http

WEB_PORT = 8000
BUCKET = "scale-media"


@dataclass
class Deployment:
    network: Network
    env: dict[str, str]
    web: dict[str, Node]  # "a", "b"
    worker_node: Node
    database_url: str
    s3: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    workers: dict[str, subprocess.Popen[str]] = field(default_factory=dict)  # by queues
    webs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def node_env(self, node: Node) -> dict[str, str]:
        """The deployment's settings plus this host's own folders (nothing shared)."""
        return {
            **self.env,
            "LIVE_ROOT": str(node.folder / "live"),
            "UPLOAD_TMP_DIR": str(node.folder / "uploads"),
            "WORK_DIR": str(node.folder / "work"),
            "STORAGE_LOCAL_ROOT": str(node.folder / "unused-local-storage"),
        }

    def start_web(self, name: str) -> str:
        """The README's production web command on that host (gunicorn.conf.py: gevent)."""
        node = self.web[name]
        argv = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
            "-b", f"{node.address}:{WEB_PORT}", "--chdir", str(ROOT), "app:create_app()",
        ]  # fmt: skip
        url = f"http://{node.address}:{WEB_PORT}"
        # Where the other nodes fetch the media of a room whose camera streams into this node.
        env = {**self.node_env(node), "LIVE_INTERNAL_URL": url}
        self.webs[name] = node.spawn(argv, env, "web")
        wait_http(f"{url}/api/v1/auth/csrf", what=f"web node {name}")
        self.urls[name] = url
        return url

    def start_worker(self, queues: str) -> subprocess.Popen[str]:
        """The README's `flask worker --queues ...` on the worker host (Procrastinate)."""
        node = self.worker_node
        argv = [sys.executable, "-m", "flask", "worker", "--queues", queues]
        label = f"worker-{queues.replace(',', '-')}-{len(node.processes)}"
        self.workers[queues] = node.spawn(argv, self.node_env(node), label)
        return self.workers[queues]

    def logs(self) -> str:
        return "\n".join(node.logs() for node in self.network.nodes)


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from moto.server import ThreadedMotoServer

    from media.s3 import make_s3_client

    folder = tmp_path_factory.mktemp("scale")
    os.chmod(folder, 0o755)
    with Network(folder / "hosts") as network:
        address = network.services_address
        with (
            PostgresServer(address) as postgres,
            RedisServer(address) as redis,
        ):
            s3_server = ThreadedMotoServer(ip_address=address, port=0, verbose=False)
            s3_server.start()
            try:
                host, port = s3_server.get_host_and_port()
                s3 = {
                    "STORAGE_BACKEND": "s3",
                    "S3_BUCKET": BUCKET,
                    "S3_ENDPOINT_URL": f"http://{host}:{port}",
                    "S3_REGION": "us-east-1",
                    "S3_ACCESS_KEY_ID": "testing",
                    "S3_SECRET_ACCESS_KEY": "testing",
                }
                make_s3_client(s3).create_bucket(Bucket=BUCKET)
                env = {
                    **os.environ,
                    **s3,
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "FLASK_APP": "app",
                    "DATABASE_URL": postgres.url,
                    "SECRET_KEY": f"scale-{uuid.uuid4().hex}",  # one key for every node
                    "DEPLOYMENT_NAME": f"{TEST_DEPLOYMENT}-scale",
                    "SOCKETIO_MESSAGE_QUEUE": redis.url,
                    "REDIS_URL": redis.url,
                    "JOBS_BACKEND": "procrastinate",  # the queue engine of the scale-out set-up
                    "JOBS_MODE": "worker",  # web nodes run no jobs: the worker host does
                    "JOBS_POLL_SECONDS": "0.2",
                    "JOBS_STALLED_SECONDS": "4",  # a killed worker's job runs again soon
                    "LIVE_RTMP_PORT": "0",
                    "TRANSCODE_PRESET": "ultrafast",
                    "HLS_SEGMENT_SECONDS": "2",
                    "PYTHONPATH": str(ROOT),
                }
                network.add_node("a"), network.add_node("b"), network.add_node("c")
                web = {"a": network.nodes[0], "b": network.nodes[1]}
                deployment = Deployment(network, env, web, network.nodes[2], postgres.url, s3)
                setup = subprocess.run(
                    ["ip", "netns", "exec", web["a"].namespace, sys.executable, "-m", "flask",
                     "setup"],
                    env=deployment.node_env(web["a"]), cwd=ROOT, capture_output=True, text=True,
                )  # fmt: skip
                assert setup.returncode == 0, setup.stdout + setup.stderr
                deployment.start_web("a")
                deployment.start_web("b")
                deployment.start_worker("payments,default")
                deployment.start_worker("media")
                yield deployment
            finally:
                s3_server.stop()


@pytest.fixture(scope="session")
def database_url(deployment: Deployment) -> str:
    """The deployment's own database, which `flask setup` on node A migrated."""
    return deployment.database_url

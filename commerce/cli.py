"""Command-line entry points: set-up, serving, the job worker and demo content."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from werkzeug.serving import make_server

from commerce.attribution.ledger_cli import ledger_group
from commerce.extensions import socketio
from commerce.invites.cli import invites_group, seed_programme
from commerce.jobs.cli import jobs_group
from commerce.jobs.registry import PROCRASTINATE_BACKEND, QUEUES
from commerce.jobs.runner import Worker, in_process_workers, stop_workers
from commerce.live.ingest import ingest
from commerce.search.cli import index_if_empty, search_group


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def register_commands(app: Flask) -> None:
    @app.cli.command("setup")
    def setup_command() -> None:
        """Create the instance folder and secret key, and migrate the database."""
        os.makedirs(current_app.instance_path, exist_ok=True)
        key_path = os.path.join(current_app.instance_path, "secret_key")
        if not os.path.exists(key_path) and not os.environ.get("SECRET_KEY"):
            with open(key_path, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.chmod(key_path, 0o600)
            click.echo(f"wrote {key_path}")
        upgrade()
        click.echo("database is up to date")
        index_if_empty()
        click.echo(seed_programme())

    app.cli.add_command(jobs_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(search_group)
    app.cli.add_command(invites_group)

    @app.cli.command("worker")
    @click.option(
        "--queues",
        default=",".join(QUEUES),
        show_default=True,
        help="Comma-separated queues this process serves, one job at a time, highest priority "
        "first. Run `--queues media` apart so transcodes never delay payments.",
    )
    @click.option(
        "--concurrency",
        default=1,
        show_default=True,
        type=click.IntRange(1, 64),
        help="JOBS_BACKEND=procrastinate: jobs this process runs at once (threads).",
    )
    def worker_command(queues: str, concurrency: int) -> None:
        """Run background jobs until SIGTERM or Ctrl-C (each drains: the job at hand finishes).

        A second signal stops at once and hands the job at hand back to the queue.
        """
        served = [name.strip() for name in queues.split(",") if name.strip()]
        unknown = sorted(set(served) - set(QUEUES))
        if unknown or not served:
            raise click.BadParameter(f"queues are {', '.join(QUEUES)}", param_hint="--queues")
        flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
        if flask_app.config["JOBS_BACKEND"] == PROCRASTINATE_BACKEND:
            from commerce.jobs.procrastinate_worker import run_worker

            click.echo(
                f"procrastinate worker running on {', '.join(served)} (concurrency {concurrency});"
                " SIGTERM or Ctrl-C stops it after the jobs at hand"
            )
            run_worker(flask_app, served, concurrency)
            click.echo("stopped")
            return
        worker = Worker(flask_app, queues=served)

        def drain(signum: int, _frame: object) -> None:
            if worker.stopping:
                raise KeyboardInterrupt  # the second signal: give the job back, stop now
            click.echo(f"{signal.Signals(signum).name}: finishing the job at hand, then stopping")
            worker.request_stop()

        signal.signal(signal.SIGTERM, drain)
        signal.signal(signal.SIGINT, drain)
        click.echo(
            f"job worker running on {', '.join(served)}; "
            "SIGTERM or Ctrl-C stops it after the job at hand"
        )
        try:
            worker.run_forever()
        except KeyboardInterrupt:
            click.echo("stopped mid-job: the job is back in the queue")
        else:
            click.echo("stopped")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    def serve_command(host: str, port: int) -> None:
        """Serve the web app and Socket.IO; runs jobs in-process unless JOBS_MODE=worker."""
        flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
        workers = []
        if flask_app.config["JOBS_BACKEND"] == PROCRASTINATE_BACKEND:
            # Procrastinate's workers are processes of their own (asyncio, signals, heartbeats).
            click.echo("JOBS_BACKEND=procrastinate: jobs run in `flask worker` processes")
        elif flask_app.config["JOBS_MODE"] == "inprocess":
            workers = [worker.start() for worker in in_process_workers(flask_app)]
        if not flask_app.config["LIVE_INTERNAL_URL"] and host not in ("0.0.0.0", "::"):
            # Where the other nodes fetch the rooms ingested here (commerce/live/relay.py).
            flask_app.config["LIVE_INTERNAL_URL"] = f"http://{host}:{port}"
        live = ingest()
        rtmp = live.start_rtmp()
        if rtmp is not None:
            click.echo(f"RTMP ingest on rtmp://{rtmp.host}:{rtmp.port}/live/<stream key>")
        # SIGTERM (a deploy, a service manager) stops like Ctrl-C: the server closes, then the
        # finally below ends the live rooms and drains the job worker.
        signal.signal(signal.SIGTERM, _interrupt)
        click.echo(f"serving on http://{host}:{port}/")
        # `flask` marks its own process as "run from the CLI", and app.run() then does nothing.
        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        try:
            socketio.run(flask_app, host=host, port=port, allow_unsafe_werkzeug=True)
        finally:
            live.close()  # rooms streaming here wait out their grace: a deploy ends no show
            stop_workers(workers, flask_app.config["JOB_DRAIN_SECONDS"])

    @app.cli.command("live-ingest")
    @click.option(
        "--http-host",
        default="0.0.0.0",
        show_default=True,
        help="With LIVE_INTERNAL_URL: the address its port is served on (the web nodes fetch "
        "the rooms' FLV feed and HLS there).",
    )
    def live_ingest_command(http_host: str) -> None:
        """Run the RTMP ingest alone (an ingest node); with LIVE_INTERNAL_URL it also serves
        the rooms' media to the web nodes on that URL's port (no shared LIVE_ROOT needed)."""
        flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
        # An operator reads here which publishes were refused and why, and rooms taken over.
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for name in ("media.live", "commerce.live"):
            logging.getLogger(name).setLevel(logging.INFO)
        live = ingest()
        rtmp = live.start_rtmp()
        if rtmp is None:
            raise click.ClickException("LIVE_RTMP_PORT is 0: nothing to run")
        # SIGTERM (a deploy) stops like Ctrl-C: without it the rooms' parts were cut unclosed.
        signal.signal(signal.SIGTERM, _interrupt)
        click.echo(
            f"RTMP ingest on rtmp://{rtmp.host}:{rtmp.port}/live/<stream key> (node {live.node}); "
            "SIGTERM or Ctrl-C stops"
        )
        server = None
        if internal := flask_app.config["LIVE_INTERNAL_URL"]:
            port = urlsplit(internal).port or 80
            server = make_server(http_host, port, flask_app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True, name="origin").start()
            click.echo(f"live media for the web nodes on {http_host}:{port} ({internal})")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopping: the rooms live here wait for their broadcasters to reconnect")
        finally:
            live.close()
            if server is not None:
                server.shutdown()
        click.echo("stopped")

    @app.cli.command("demo")
    def demo_command() -> None:
        """Add demo accounts, products and real videos (made with ffmpeg); safe to run twice."""
        from commerce.demo import seed_demo

        for line in seed_demo(current_app._get_current_object()):  # type: ignore[attr-defined]
            click.echo(line)

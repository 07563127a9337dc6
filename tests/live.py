"""A real HTTP server for the app in a background thread (browser and socket tests)."""

from __future__ import annotations

import threading
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORD


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll: stopping the server (each browser or fuzz test) waits one poll at most.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def login(self, email: str, password: str = PASSWORD) -> requests.Session:
        return log_in(self.url, email, password)


def log_in(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A browser session signed in on the app served at `url`."""
    http = requests.Session()
    token = http.get(f"{url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    response = http.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    response.raise_for_status()
    return http

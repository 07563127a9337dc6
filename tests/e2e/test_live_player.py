"""The live player in Chromium, against a server that misbehaves on purpose."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOLD_S = 3.0
pytestmark = [pytest.mark.e2e]

PAGE = b"""<!doctype html><meta charset="utf-8">
<video id="v" muted playsinline></video>
<script src="/static/vendor/mpegts.min.js"></script>
<script type="module">
import { createLivePlayer } from "/static/js/live-player.js";
window.player = createLivePlayer(document.getElementById("v"), {
  hlsUrl: "/stream.m3u8",
  flvUrl: "/flv",
});
window.player.start();
</script>
"""


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the repo; the FLV socket's handshake is never answered."""

    def do_GET(self) -> None:
        if self.path == "/page.html":
            self._send(PAGE, "text/html")
        elif self.path == "/stream.m3u8":
            self._send(b"#EXTM3U\n", "application/vnd.apple.mpegurl")
        elif self.path == "/flv":
            time.sleep(HOLD_S)  # the browser's WebSocket stays CONNECTING meanwhile
        else:
            super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(ROOT)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_stopping_while_the_flv_socket_connects_reports_no_error(browser, server):
    # mpegts.js throws from the socket's late error event once its player is destroyed
    # (xqq/mpegts.js#197); a room that ends during a connect must not surface that.
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error}"))
    try:
        page.goto(f"{server}/page.html")
        page.wait_for_function("() => window.player && window.player.mode === 'flv'")
        page.wait_for_timeout(200)
        page.evaluate("() => window.player.stop()")
        page.wait_for_timeout(1000)
        assert page.evaluate("() => window.player.mode") == "none"
        assert errors == []
        # A real error on the page is still reported: the guard is that narrow.
        page.evaluate("() => setTimeout(() => { throw new Error('boom'); })")
        page.wait_for_timeout(200)
        assert errors == ["Error: boom"]
    finally:
        page.close()

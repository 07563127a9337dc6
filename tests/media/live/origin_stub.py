"""A stand-in for another node over real HTTP: answers FLV streams and files, records requests."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from media.live.flv import FLV_HEADER, TAG_AUDIO, TAG_VIDEO, flv_tag

AVC_HEADER = flv_tag(TAG_VIDEO, 0, b"\x17\x00\x00\x00\x00\x01\x64\x00\x1f")
AAC_HEADER = flv_tag(TAG_AUDIO, 0, b"\xaf\x00\x12\x10")


def video_tag(ms: int, *, key: bool) -> bytes:
    return flv_tag(TAG_VIDEO, ms, (b"\x17" if key else b"\x27") + b"\x01\x00\x00\x00" + b"x" * 200)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class OriginStub:
    """GET .../flv streams what tests put in `flv` (None ends it); other paths get `files`."""

    files: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    flv: queue.Queue[bytes | None] = field(default_factory=queue.Queue)
    flv_status: int = 200
    open_streams: int = 0
    disconnected: threading.Event = field(default_factory=threading.Event)

    def start(self) -> OriginStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub.seen.append(Seen(self.path, dict(self.headers)))
                if self.path.split("?")[0].endswith("/flv"):
                    self._stream()
                    return
                status, ctype, body = stub.files.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(stub.flv_status)
                self.send_header("Content-Type", "video/x-flv")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if stub.flv_status != 200:
                    self.wfile.write(b"0\r\n\r\n")
                    return
                stub.open_streams += 1
                try:
                    self._chunk(FLV_HEADER + AVC_HEADER + AAC_HEADER)
                    while (data := stub.flv.get()) is not None:
                        self._chunk(data)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    stub.disconnected.set()
                finally:
                    stub.open_streams -= 1

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.flv.put(None)
        self.server.shutdown()
        self.server.server_close()

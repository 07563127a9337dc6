"""RTMP ingest (OBS and friends) on one port for every room, built on pyrtmp.

rtmp://HOST:PORT/live/<stream key>: the key is checked by the hub's authorize() callback at
publish time; an unknown key gets NetStream.Publish.BadName and the connection is closed
before any media reaches ffmpeg.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from media.live.flv import FLV_HEADER, TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO, flv_tag
from media.live.session import IngestRefused, LiveHub, Publisher

_root = logging.getLogger()
_had_handlers = bool(_root.handlers)
_level = _root.level
from pyrtmp import StreamClosedException  # noqa: E402
from pyrtmp.amf.serializers import AMF0Serializer  # noqa: E402
from pyrtmp.messages import Chunk  # noqa: E402
from pyrtmp.rtmp import RTMPProtocol, SimpleRTMPController  # noqa: E402

# pyrtmp calls logging.basicConfig(level=DEBUG) on import: undo that side effect.
if not _had_handlers:
    for handler in list(_root.handlers):
        _root.removeHandler(handler)
    _root.setLevel(_level)
for _name in ("pyrtmp", "pyrtmp.rtmp", "pyrtmp.session_manager", "pyrtmp.messages.command"):
    # It warns about every FCPublish/releaseStream that OBS and ffmpeg send.
    logging.getLogger(_name).setLevel(logging.ERROR)

log = logging.getLogger(__name__)
_MAX_KEY_LEN = 256


def repair_type3_timestamps(session: Any) -> None:
    """Make a pyrtmp session time type-3 chunks that start a message as RTMP says.

    A type-3 header (no fields) that begins a new message repeats the previous message's
    timestamp *delta* on its chunk stream (RTMP 5.3.1.2.4; what ffmpeg's and nginx-rtmp's readers
    do); pyrtmp 0.3 repeats the timestamp itself. ffmpeg and OBS send AAC at 48 kHz as
    21/22/21 ms deltas with type 3 for each repeat, so the audio clock ran 1.5% slow, and our
    transcoder, interleaving audio and video by time, held video back more every second
    (0.35 -> 0.65 s over 40 s in make bench-live-browser).
    """
    read_raw_chunk = session.read_raw_chunk
    ts_fields: dict[int, int] = {}  # per chunk stream: the last delta (absolute after type 0)

    async def read_timed_chunk() -> Any:
        before = dict(session.latest_chunks)
        chunk = await read_raw_chunk()
        stream = chunk.chunk_id
        previous = before.get(str(stream))
        if chunk.chunk_type == 0:
            ts_fields[stream] = chunk.timestamp
        elif chunk.chunk_type in (1, 2) and previous is not None:
            ts_fields[stream] = chunk.timestamp - previous.timestamp
        elif chunk.chunk_type == 3 and chunk.raw_chunk_number == 0 and previous is not None:
            # The same object is the stream's "previous chunk" for the next read.
            chunk.timestamp = previous.timestamp + ts_fields.get(stream, 0)
        return chunk

    session.read_raw_chunk = read_timed_chunk


def _status(msg_stream_id: int, level: str, code: str, description: str) -> Chunk:
    from bitstring import BitStream

    data = BitStream()
    AMF0Serializer.create_object(data, "onStatus")
    AMF0Serializer.create_object(data, 0)
    AMF0Serializer.create_object(data, None)
    AMF0Serializer.create_object(data, {"level": level, "code": code, "description": description})
    return Chunk(
        chunk_type=0,
        chunk_id=3,
        timestamp=0,
        msg_length=len(data.bytes),
        msg_type_id=0x14,
        msg_stream_id=msg_stream_id,
        payload=data.bytes,
    )


class _Controller(SimpleRTMPController):
    def __init__(self, server: RtmpIngestServer) -> None:
        super().__init__()
        self.server = server

    async def on_handshake(self, session: Any) -> None:
        repair_type3_timestamps(session)
        await super().on_handshake(session)

    async def on_ns_publish(self, session: Any, message: Any) -> None:
        key = str(message.publishing_name or "").split("?", 1)[0]
        loop = asyncio.get_running_loop()
        publisher: Publisher | None = None
        if 0 < len(key) <= _MAX_KEY_LEN:
            try:
                # authorize() may hit the database; keep the event loop free.
                publisher = await loop.run_in_executor(
                    None, self.server.hub.publish_with_key, key, "flv"
                )
            except IngestRefused as exc:
                log.info("RTMP publish refused: %s", exc)
            except Exception:
                log.exception("RTMP publish failed")
        if publisher is None:
            session.write_chunk_to_stream(
                _status(message.msg_stream_id, "error", "NetStream.Publish.BadName", "refused")
            )
            await session.drain()
            raise StreamClosedException()
        session.state = publisher
        self.server._track(publisher, session)
        publisher.feed(FLV_HEADER)
        await super().on_ns_publish(session, message)

    def _feed(self, session: Any, tag_type: int, timestamp: int, payload: bytes) -> None:
        publisher = getattr(session, "state", None)
        if isinstance(publisher, Publisher):
            if publisher.closed:
                raise StreamClosedException()
            publisher.feed(flv_tag(tag_type, timestamp, payload))

    async def on_metadata(self, session: Any, message: Any) -> None:
        self._feed(session, TAG_SCRIPT, 0, message.to_raw_meta())

    async def on_video_message(self, session: Any, message: Any) -> None:
        self._feed(session, TAG_VIDEO, message.timestamp, message.payload)

    async def on_audio_message(self, session: Any, message: Any) -> None:
        self._feed(session, TAG_AUDIO, message.timestamp, message.payload)

    async def on_ns_delete_stream(self, session: Any, message: Any) -> None:
        self._close(session)

    async def on_ns_close_stream(self, session: Any, message: Any) -> None:
        self._close(session)

    async def on_unknown_message(self, session: Any, message: Any) -> None:
        pass  # FCPublish, releaseStream, ... need no answer for ffmpeg or OBS

    async def cleanup(self, session: Any) -> None:
        self._close(session)

    def _close(self, session: Any) -> None:
        publisher = getattr(session, "state", None)
        if isinstance(publisher, Publisher):
            publisher.close()
            self.server._untrack(publisher)


class RtmpIngestServer:
    """An asyncio RTMP server in its own thread, feeding LiveHub rooms."""

    def __init__(self, hub: LiveHub, host: str = "127.0.0.1", port: int = 1935) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._sessions: dict[int, Any] = {}

    def start(self, timeout: float = 10.0) -> RtmpIngestServer:
        """Listen (port 0 picks a free port, see .port); returns self."""
        self._thread = threading.Thread(target=self._run, daemon=True, name="rtmp-ingest")
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("RTMP server did not start")
        if self._error is not None:
            raise RuntimeError(f"RTMP server failed: {self._error}") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                loop.create_server(
                    lambda: RTMPProtocol(controller=_Controller(self)), self.host, self.port
                )
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _track(self, publisher: Publisher, session: Any) -> None:
        self._sessions[id(publisher)] = session
        loop = self._loop

        def drop() -> None:  # called from any thread when the room cuts this publisher
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(session.writer.close)

        publisher.on_abort = drop

    def _untrack(self, publisher: Publisher) -> None:
        self._sessions.pop(id(publisher), None)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and drop every connection (rooms go into their grace period)."""
        loop, server = self._loop, self._server
        if loop is None or server is None or loop.is_closed():
            return

        async def shutdown() -> None:
            server.close()
            for session in list(self._sessions.values()):
                session.writer.close()
            await asyncio.sleep(0.1)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)

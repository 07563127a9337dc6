"""FLV tags: writing them (RTMP ingest to ffmpeg) and the low-latency fan-out (GOP cache)."""

from __future__ import annotations

import collections
import contextlib
import queue
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

FLV_HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"  # audio+video, PreviousTagSize0
TAG_AUDIO = 8
TAG_VIDEO = 9
TAG_SCRIPT = 18
_MAX_TAG_BYTES = 16 << 20


def flv_tag(tag_type: int, timestamp_ms: int, payload: bytes) -> bytes:
    """One FLV tag with its trailing PreviousTagSize."""
    ts = timestamp_ms & 0xFFFFFFFF
    size = len(payload)
    header = (
        bytes([tag_type])
        + size.to_bytes(3, "big")
        + (ts & 0xFFFFFF).to_bytes(3, "big")
        + bytes([ts >> 24])
        + b"\x00\x00\x00"  # stream id
    )
    return header + payload + struct.pack(">I", 11 + size)


@dataclass(frozen=True)
class FlvTag:
    """One parsed tag; `raw` is the whole tag including its PreviousTagSize."""

    tag_type: int
    timestamp_ms: int
    raw: bytes

    @property
    def payload(self) -> bytes:
        """Tag body."""
        return self.raw[11:-4]

    @property
    def is_keyframe(self) -> bool:
        """A video keyframe (frame type 1) that is not a sequence header."""
        body = self.payload
        return (
            self.tag_type == TAG_VIDEO
            and len(body) >= 2
            and body[0] >> 4 == 1
            and not (body[0] & 0x0F == 7 and body[1] == 0)
        )

    @property
    def is_sequence_header(self) -> bool:
        """AVC decoder config or AAC AudioSpecificConfig: every new player needs them first."""
        body = self.payload
        if len(body) < 2:
            return False
        if self.tag_type == TAG_VIDEO:
            return body[0] & 0x0F == 7 and body[1] == 0
        return self.tag_type == TAG_AUDIO and body[0] >> 4 == 10 and body[1] == 0

    def retimed(self, offset_ms: int) -> FlvTag:
        """The same tag with offset_ms added to its timestamp."""
        ts = max(0, self.timestamp_ms + offset_ms)
        return FlvTag(self.tag_type, ts, flv_tag(self.tag_type, ts, self.payload))


class FlvParser:
    """Incremental FLV demuxer: feed bytes, get whole tags (the file header is skipped)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._header_done = False

    def feed(self, data: bytes) -> list[FlvTag]:
        """Tags completed by this data."""
        self._buf += data
        tags: list[FlvTag] = []
        if not self._header_done:
            if len(self._buf) < 13:
                return tags
            if bytes(self._buf[:3]) != b"FLV":
                raise ValueError("not an FLV stream")
            offset = struct.unpack(">I", self._buf[5:9])[0]
            del self._buf[: offset + 4]
            self._header_done = True
        while len(self._buf) >= 11:
            size = int.from_bytes(self._buf[1:4], "big")
            if size > _MAX_TAG_BYTES:
                raise ValueError("FLV tag too large")
            total = 11 + size + 4
            if len(self._buf) < total:
                break
            ts = int.from_bytes(self._buf[4:7], "big") | (self._buf[7] << 24)
            tags.append(FlvTag(self._buf[0], ts, bytes(self._buf[:total])))
            del self._buf[:total]
        return tags


class Subscription:
    """One viewer's chunk stream: iterate for bytes; ends when the room ends or on close()."""

    def __init__(self, feed: LowLatencyFeed, max_chunks: int) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max_chunks)
        self._feed = feed
        self.closed = False
        self.overflowed = False

    def _put(self, chunk: bytes | None) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            # Too slow a viewer: cut it off rather than buffer without bound (it reconnects).
            self.overflowed = True
            self.closed = True
            self._feed._remove(self)
            try:
                self._queue.get_nowait()
                self._queue.put_nowait(None)
            except (queue.Empty, queue.Full):
                pass

    def get(self, timeout: float | None = None) -> bytes | None:
        """Next chunk, or None at the end; raises queue.Empty on timeout."""
        return self._queue.get(timeout=timeout)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        """Stop receiving; a blocked iterator ends."""
        if not self.closed:
            self.closed = True
            self._feed._remove(self)
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)


class LowLatencyFeed:
    """HTTP-FLV-style fan-out of one room: one continuous FLV stream per subscriber.

    A subscriber first gets the FLV header, the latest metadata and sequence headers and the
    tags since the last keyframe (GOP cache), so a Media Source player can start at once.
    A resumed ingest continues the same stream: its timestamps are shifted to follow on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._listeners: list[Callable[[bytes], None]] = []
        self._headers: dict[tuple[int, bool], FlvTag] = {}
        self._gop: collections.deque[FlvTag] = collections.deque(maxlen=2000)
        self._offset_ms = 0
        self._last_ts = -1
        self._resumed = False
        self._ended = False

    def new_part(self) -> None:
        """A new ingest connection starts: its timestamps restart from about zero."""
        with self._lock:
            self._resumed = self._last_ts >= 0

    def push(self, tag: FlvTag) -> None:
        """Publish one tag produced by the live transcode."""
        with self._lock:
            if self._ended:
                return
            if self._resumed:
                self._offset_ms = self._last_ts + 40 - tag.timestamp_ms
                self._resumed = False
            if self._offset_ms:
                tag = tag.retimed(self._offset_ms)
            self._last_ts = max(self._last_ts, tag.timestamp_ms)
            if tag.tag_type == TAG_SCRIPT:
                self._headers[(TAG_SCRIPT, False)] = tag
            elif tag.is_sequence_header:
                self._headers[(tag.tag_type, True)] = tag
            else:
                if tag.is_keyframe:
                    self._gop.clear()
                if tag.is_keyframe or self._gop:
                    self._gop.append(tag)
            if tag.tag_type == TAG_SCRIPT and self._last_ts > 0:
                return  # a repeated onMetaData mid-stream confuses players
            subs, listeners = list(self._subs), list(self._listeners)
        for sub in subs:
            sub._put(tag.raw)
        for listener in listeners:
            listener(tag.raw)

    def _start_bytes(self) -> bytes:
        parts = [FLV_HEADER]
        for key in ((TAG_SCRIPT, False), (TAG_VIDEO, True), (TAG_AUDIO, True)):
            if key in self._headers:
                parts.append(self._headers[key].raw)
        parts += [t.raw for t in self._gop]
        return b"".join(parts)

    def subscribe(self, max_chunks: int = 3000) -> Subscription:
        """A new viewer stream, starting with the header and the GOP cache."""
        sub = Subscription(self, max_chunks)
        with self._lock:
            sub._put(self._start_bytes())
            if self._ended:
                sub._put(None)
            else:
                self._subs.append(sub)
        return sub

    def add_listener(self, listener: Callable[[bytes], None]) -> bytes:
        """Call listener(chunk) for every new tag; returns the start bytes to send first."""
        with self._lock:
            self._listeners.append(listener)
            return self._start_bytes()

    def remove_listener(self, listener: Callable[[bytes], None]) -> None:
        """Stop calling listener."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def end(self) -> None:
        """The room ended: every subscription's iterator finishes."""
        with self._lock:
            self._ended = True
            subs, self._subs = self._subs, []
        for sub in subs:
            sub._put(None)

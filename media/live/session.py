"""Live rooms: one ingest pipeline (ffmpeg) per connection, resumable within a grace period."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable

from media.hls import write_atomic
from media.live.commands import (
    MASTER_NAME,
    PLAYLIST_NAME,
    RECORDING_DIR,
    Container,
    LiveOptions,
)
from media.live.events import IngestRefused as IngestRefused
from media.live.events import LiveCallbacks as LiveCallbacks
from media.live.events import RoomEnded as RoomEnded
from media.live.events import RoomState as RoomState
from media.live.events import SegmentEvent as SegmentEvent
from media.live.flv import LowLatencyFeed
from media.live.folders import ROOM_ID, room_folder
from media.live.pipeline import EXIT_TIMEOUT_S, IngestPipeline, Publisher, safe_call
from media.live.pipeline import process_cpu_seconds as process_cpu_seconds
from media.live.playlist import (
    end_playlist,
    read_live_playlist,
    render_live_master,
    segment_facts,
)
from media.live.recording import RECORDING_NAME as RECORDING_NAME
from media.live.recording import (
    RecordingPart,
    finalise_recording,
    last_part,
    write_part_start,
)

log = logging.getLogger(__name__)

_POLL_S = 0.1


class LiveRoom:
    """One room's live output: HLS ladder, low-latency FLV feed and recording."""

    def __init__(self, hub: LiveHub, room_id: str, *, adopt: bool = False) -> None:
        self.hub = hub
        self.room_id = room_id
        self.out_dir = room_folder(hub.root_dir, room_id)
        self.low_latency = LowLatencyFeed()
        self.state = RoomState.LIVE
        self.parts = 0
        self.part_started: dict[int, float] = {}  # part -> wall clock of its first bytes
        self.timeline: tuple[RecordingPart, ...] = ()
        self.started = False
        self.end_reason: str | None = None
        self.recording: str | None = None
        self._pipeline: IngestPipeline | None = None
        self._grace: threading.Timer | None = None
        self._lock = threading.RLock()
        self._finished = threading.Event()
        self._seen: dict[str, int] = {}
        self._poll_lock = threading.Lock()
        self._released = False
        self._closed = threading.Event()  # ended or released: the watcher stops
        for rung in hub.options.rungs:
            os.makedirs(os.path.join(self.out_dir, rung.name), exist_ok=True)
        os.makedirs(os.path.join(self.out_dir, RECORDING_DIR), exist_ok=True)
        if adopt:  # a folder another process streamed into: continue after its parts
            self.parts = last_part(self.out_dir)
            self.started = os.path.exists(self.master_playlist)
            for rung in hub.options.rungs:
                playlist = read_live_playlist(self.playlist(rung.name))
                if playlist is not None and playlist.segments:
                    self._seen[rung.name] = playlist.segments[-1].sequence
        self._watcher = threading.Thread(target=self._watch, daemon=True, name=f"live-{room_id}")

    # -- paths ---------------------------------------------------------------------------
    @property
    def master_playlist(self) -> str:
        """Absolute path of master.m3u8 (exists once the room is playable)."""
        return os.path.join(self.out_dir, MASTER_NAME)

    def playlist(self, rendition: str) -> str:
        """Absolute path of one rendition's live playlist."""
        return os.path.join(self.out_dir, rendition, PLAYLIST_NAME)

    @property
    def ffmpeg_pid(self) -> int | None:
        """pid of the running ffmpeg, for CPU accounting."""
        pipeline = self._pipeline
        return pipeline.pid if pipeline is not None and not pipeline.exited.is_set() else None

    # -- lifecycle -----------------------------------------------------------------------
    def _attach(self, container: Container) -> Publisher:
        deadline = time.monotonic() + EXIT_TIMEOUT_S
        while True:
            with self._lock:
                if self.state is RoomState.ENDED:
                    raise IngestRefused(f"room {self.room_id} has ended")
                current = self._pipeline
                if current is None or current.exited.is_set():
                    if self._grace is not None:
                        self._grace.cancel()
                        self._grace = None
                    resumed = self.parts > 0
                    self.parts += 1
                    self.state = RoomState.LIVE
                    self._pipeline = IngestPipeline(
                        self.room_id,
                        self.out_dir,
                        container=container,
                        part=self.parts,
                        options=self.hub.options,
                        feed=self.low_latency,
                        on_first_bytes=self._part_began,
                        on_exit=self._part_exited,
                    )
                    if self._watcher.ident is None:
                        self._watcher.start()
                    publisher = self._pipeline.publisher
                    break
                if not current.input_closed:
                    raise IngestRefused(f"room {self.room_id} is already live")
            # The previous connection is still draining: wait for its ffmpeg to finish.
            if not current.exited.wait(max(0.0, deadline - time.monotonic())):
                raise IngestRefused(f"room {self.room_id}: previous ingest still stopping")
        if resumed:
            safe_call(self.hub.callbacks.on_resumed, self)
        return publisher

    def _part_began(self, part: int) -> None:
        started = self.part_started.setdefault(part, time.time())
        try:  # for whoever finalises the recording if this process does not
            write_part_start(self.out_dir, part, started)
        except OSError:
            log.warning("room %s: start of part %d not written", self.room_id, part)

    def _part_exited(self, pipeline: IngestPipeline) -> None:
        with self._lock:
            if pipeline is not self._pipeline or self.state is RoomState.ENDED:
                return
            if self.end_reason is not None or self._released:
                return  # end() finalises; a released room is no longer this hub's
            self.state = RoomState.WAITING
            self._grace = threading.Timer(self.hub.grace_s, self._grace_expired)
            self._grace.daemon = True
            self._grace.start()
        safe_call(self.hub.callbacks.on_dropped, self)
        safe_call(self.hub.callbacks.on_part_closed, self, pipeline.part)

    def _grace_expired(self) -> None:
        with self._lock:
            if self.state is not RoomState.WAITING or self.end_reason is not None:
                return
        confirm = self.hub.callbacks.confirm_end
        try:
            ending = confirm is None or confirm(self)
        except Exception:  # cannot tell: ending is what the grace promised
            log.exception("room %s: confirm_end failed", self.room_id)
            ending = True
        if not ending:
            self.release()
            return
        with self._lock:
            if self.state is not RoomState.WAITING or self.end_reason is not None:
                return  # resumed (or ended) while we asked
            self.end_reason = "grace_expired"
        self._finalise()

    def release(self, timeout: float = EXIT_TIMEOUT_S) -> bool:
        """Let go of the room without ending it (shutdown, or another node took it over).

        The ingest is cut (the broadcaster reconnects, here or elsewhere), ffmpeg finishes its
        recording part and exits; no ENDLIST, no recording.mp4, no on_dropped or on_ended: the
        room's grace is the app's to keep. Returns False when the room had already ended.
        """
        with self._lock:
            if self.end_reason is not None or self.state is RoomState.ENDED:
                return False
            self._released = True
            if self._grace is not None:
                self._grace.cancel()
                self._grace = None
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.publisher.abort()
            pipeline.stop(timeout)
            if pipeline.exited.is_set():  # waited for here: a stopping process stores it first
                safe_call(self.hub.callbacks.on_part_closed, self, pipeline.part)
        self._poll_segments()  # the last segments of this process, for on_segment
        self._closed.set()
        self.low_latency.end()
        self.hub._forget(self, ended=False)
        return True

    def end(self, timeout: float = 60.0) -> None:
        """End the room now (creator pressed "End"): stop the ingest, finalise, on_ended."""
        with self._lock:
            if self.end_reason is None:
                self.end_reason = "ended"
                if self._grace is not None:
                    self._grace.cancel()
                run_finalise = True
            else:
                run_finalise = False
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.publisher.abort()
            pipeline.stop()
        if run_finalise:
            self._finalise()
        else:
            self._finished.wait(timeout)

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Block until the room has ended and been finalised."""
        return self._finished.wait(timeout)

    def _finalise(self) -> None:
        try:
            with self._lock:
                self.state = RoomState.ENDED
            self._poll_segments()  # report the last segments before the end
            for rung in self.hub.options.rungs:
                end_playlist(self.playlist(rung.name))
            self.low_latency.end()
            self.recording, self.timeline = finalise_recording(self.out_dir, self.part_started)
        finally:
            self._closed.set()
            self._finished.set()
        safe_call(
            self.hub.callbacks.on_ended,
            RoomEnded(
                self.room_id,
                self.end_reason or "ended",
                self.recording,
                self.parts,
                self.timeline,
            ),
        )
        self.hub._forget(self)

    # -- segment watcher -----------------------------------------------------------------
    def _watch(self) -> None:
        idle = self.hub.idle_timeout_s
        while not self._closed.is_set():
            self._poll_segments()
            pipeline = self._pipeline
            if (
                idle
                and pipeline is not None
                and not pipeline.input_closed
                and time.monotonic() - pipeline.last_input_at > idle
            ):
                log.warning("room %s: no ingest data for %.0fs, dropping", self.room_id, idle)
                pipeline.publisher.abort()
            self._closed.wait(_POLL_S)

    def _poll_segments(self) -> None:
        with self._poll_lock:
            self._poll_segments_locked()

    def _poll_segments_locked(self) -> None:
        for rung in self.hub.options.rungs:
            playlist = read_live_playlist(self.playlist(rung.name))
            if playlist is None:
                continue
            last = self._seen.get(rung.name, -1)
            for seg in playlist.segments:
                if seg.sequence > last:
                    self._seen[rung.name] = seg.sequence
                    safe_call(
                        self.hub.callbacks.on_segment,
                        SegmentEvent(
                            self.room_id,
                            rung.name,
                            seg.uri,
                            seg.sequence,
                            seg.duration_s,
                            seg.program_date_time,
                            seg.discontinuity,
                        ),
                    )
        if not self.started and len(self._seen) == len(self.hub.options.rungs):
            self._write_master()

    def _write_master(self) -> None:
        entries = []
        has_audio = False
        for rung in self.hub.options.rungs:
            playlist = read_live_playlist(self.playlist(rung.name))
            if playlist is None or not playlist.segments:
                return
            seg = os.path.join(self.out_dir, rung.name, playlist.segments[-1].uri)
            try:
                width, height, audio = segment_facts(seg)
            except (subprocess.SubprocessError, OSError, ValueError):
                return  # deleted under us; next poll
            has_audio = has_audio or audio
            entries.append((rung, seg, width, height))
        try:
            text = render_live_master(entries, has_audio=has_audio, fps=self.hub.options.fps)
        except (subprocess.SubprocessError, OSError, ValueError):
            return
        write_atomic(self.master_playlist, text)
        self.started = True
        safe_call(self.hub.callbacks.on_started, self)


class LiveHub:
    """All live rooms of one process, under root_dir/<room_id>/."""

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        *,
        authorize: Callable[[str], str | None] | None = None,
        options: LiveOptions | None = None,
        callbacks: LiveCallbacks | None = None,
        grace_s: float = 15.0,
        idle_timeout_s: float = 10.0,
        adopt_folders: bool = False,
    ) -> None:
        if grace_s < 0:
            raise ValueError("grace_s must be >= 0")
        self.root_dir = os.path.abspath(os.fspath(root_dir))
        os.makedirs(self.root_dir, exist_ok=True)
        self.authorize = authorize
        self.options = options or LiveOptions()
        self.callbacks = callbacks or LiveCallbacks()
        self.grace_s = grace_s
        self.idle_timeout_s = idle_timeout_s
        # True: a publish to a room whose folder exists (left by a stopped or killed process,
        # or another node) continues it, when the folder has no finalised recording. The app
        # must then know the room is not ended and that no other node is streaming into it.
        self.adopt_folders = adopt_folders
        self._rooms: dict[str, LiveRoom] = {}
        self._ended: set[str] = set()
        self._lock = threading.Lock()

    def publish(self, room_id: str, container: Container = "webm") -> Publisher:
        """Open an ingest connection for an already-authorised room (browser chunks)."""
        if not ROOM_ID.fullmatch(room_id):
            raise ValueError("room_id must be 1-64 characters of A-Z a-z 0-9 _ -")
        with self._lock:
            if room_id in self._ended:
                raise IngestRefused(f"room {room_id} has ended")
            room = self._rooms.get(room_id)
            if room is None:
                folder = room_folder(self.root_dir, room_id)
                adopt = os.path.exists(folder)
                if adopt and (
                    not self.adopt_folders or os.path.exists(os.path.join(folder, RECORDING_NAME))
                ):
                    raise IngestRefused(f"room {room_id} already has output")
                room = self._rooms[room_id] = LiveRoom(self, room_id, adopt=adopt)
        return room._attach(container)

    def publish_with_key(self, stream_key: str, container: Container = "flv") -> Publisher:
        """Open an ingest connection for whatever room authorize(stream_key) names."""
        room_id = self.authorize(stream_key) if self.authorize is not None else None
        if room_id is None:
            raise IngestRefused("unknown stream key")
        return self.publish(room_id, container)

    def room(self, room_id: str) -> LiveRoom | None:
        """The room while it is live or within its grace period."""
        with self._lock:
            return self._rooms.get(room_id)

    def rooms(self) -> list[LiveRoom]:
        """Rooms live or within their grace period."""
        with self._lock:
            return list(self._rooms.values())

    def _forget(self, room: LiveRoom, *, ended: bool = True) -> None:
        with self._lock:
            if self._rooms.get(room.room_id) is room:
                del self._rooms[room.room_id]
            if ended:
                self._ended.add(room.room_id)

    def close(self) -> None:
        """End every room (finalising recordings)."""
        for room in self.rooms():
            room.end()

    def release_all(self, timeout: float = EXIT_TIMEOUT_S) -> list[str]:
        """Let go of every room without ending any (a graceful shutdown): their ingests are
        cut and their parts closed, at once for all rooms. Returns the rooms released."""
        rooms = self.rooms()
        results: dict[str, bool] = {}

        def release(room: LiveRoom) -> None:
            results[room.room_id] = room.release(timeout)

        threads = [threading.Thread(target=release, args=(room,), daemon=True) for room in rooms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 5)
        return [room_id for room_id, released in results.items() if released]

"""Live ingest with the real ffmpeg: RTMP and browser-chunk pushes to live HLS."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from media.live.flv import TAG_VIDEO, FlvParser
from media.live.playlist import read_live_playlist
from media.live.rtmp import RtmpIngestServer
from media.live.session import IngestRefused, RoomState
from tests.media.live.conftest import (
    finish,
    probe_duration,
    probe_streams,
    push_rtmp,
    segment_paths,
)

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def rtmp(make_hub):
    servers = []

    def factory(keys, **kwargs):
        hub, events = make_hub(keys, **kwargs)
        server = RtmpIngestServer(hub, port=0).start()
        servers.append(server)
        return hub, events, server

    yield factory
    for server in servers:
        server.stop()


def test_rtmp_push_produces_live_hls(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"}, grace_s=1.0)
    code, err = finish(push_rtmp(live_clip, server.port, "key-a"))
    assert code == 0, err
    room = hub.room("room-a")
    assert room is not None
    assert room.wait_ended(30)
    assert events.started == ["room-a"]
    playlist = read_live_playlist(room.playlist("360p"))
    assert playlist is not None and playlist.ended and len(playlist.segments) >= 3
    assert all(s.program_date_time for s in playlist.segments)
    assert max(s.duration_s for s in playlist.segments) <= 1.1
    master = Path(room.master_playlist).read_text(encoding="utf-8")
    assert "360p/index.m3u8" in master and "180p/index.m3u8" in master
    for rendition, height in (("360p", 360), ("180p", 180)):
        seg = os.path.join(room.out_dir, rendition, playlist.segments[-2].uri)
        kinds = {s["codec_type"]: s for s in probe_streams(seg)}
        assert kinds["video"]["codec_name"] == "h264" and kinds["video"]["height"] == height
        assert kinds["audio"]["codec_name"] == "aac"
    reported = {e.sequence for e in events.segments if e.rendition == "360p"}
    assert {s.sequence for s in playlist.segments} <= reported


def test_segments_are_reported_while_live(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"}, grace_s=1.0)
    proc = push_rtmp(live_clip, server.port, "key-a")
    deadline = time.monotonic() + 20
    while not events.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events.started, "room never became playable"
    assert proc.poll() is None, "the room must be playable before the push ends"
    assert hub.room("room-a").state is RoomState.LIVE
    finish(proc)


def test_wrong_key_is_refused_and_produces_nothing(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"})
    code, _err = finish(push_rtmp(live_clip, server.port, "not-the-key"), timeout=15)
    assert code != 0
    assert hub.rooms() == []
    assert os.listdir(hub.root_dir) == []
    assert not events.started and not events.segments


def test_rotated_key_refuses_new_publishes(rtmp, live_clip):
    keys = {"old-key": "room-r"}
    hub, _events, server = rtmp(keys)
    keys.clear()
    keys["new-key"] = "room-r"  # the app rotated the key
    code, _ = finish(push_rtmp(live_clip, server.port, "old-key"), timeout=15)
    assert code != 0
    assert hub.rooms() == []
    with pytest.raises(IngestRefused):
        hub.publish_with_key("old-key")


def test_drop_and_resume_within_grace_stays_one_room(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"}, grace_s=4.0)
    assert finish(push_rtmp(live_clip, server.port, "key-a"))[0] == 0
    room = hub.room("room-a")
    first = read_live_playlist(room.playlist("360p"))
    time.sleep(0.5)
    assert room.state is RoomState.WAITING
    assert finish(push_rtmp(live_clip, server.port, "key-a"))[0] == 0
    assert hub.room("room-a") is room and room.parts == 2
    assert events.resumed == ["room-a"] and len(events.dropped) >= 1
    assert room.wait_ended(30)
    final = read_live_playlist(room.playlist("360p"))
    assert final is not None and final.ended
    assert final.segments[-1].sequence > first.segments[-1].sequence
    assert any(s.discontinuity for s in final.segments)
    seqs = sorted({e.sequence for e in events.segments if e.rendition == "360p"})
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), "one continuing media sequence"
    assert [e.reason for e in events.ended] == ["grace_expired"]
    assert events.ended[0].parts == 2
    # Each part was reported closed at its drop, whole (the grace then ended the room).
    assert [(room_id, part) for room_id, part, _ in events.closed] == [("room-a", 1), ("room-a", 2)]
    assert all(size > 0 for _, _, size in events.closed)
    # The replay holds both connections back to back, and says where each began.
    assert probe_duration(events.ended[0].recording) == pytest.approx(6.0, abs=0.6)
    first_part, second_part = events.ended[0].timeline
    assert first_part.duration_s == pytest.approx(3.0, abs=0.5)
    assert second_part.duration_s == pytest.approx(3.0, abs=0.5)
    # The second push began after the first had played out (-re) and the 0.5 s pause.
    gap = second_part.started_at - (first_part.started_at + first_part.duration_s)
    assert 0.3 < gap < 5.0


def test_after_the_grace_the_room_ends_and_refuses_publishes(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"}, grace_s=0.5)
    assert finish(push_rtmp(live_clip, server.port, "key-a"))[0] == 0
    room = hub.room("room-a")
    assert room.wait_ended(30)
    assert room.state is RoomState.ENDED and hub.room("room-a") is None
    for rendition in ("360p", "180p"):
        text = Path(room.playlist(rendition)).read_text(encoding="utf-8")
        assert text.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(events.ended) == 1 and events.ended[0].recording
    assert probe_duration(events.ended[0].recording) == pytest.approx(3.0, abs=0.5)
    assert os.listdir(os.path.join(room.out_dir, "recording"))  # parts kept for audit
    code, _ = finish(push_rtmp(live_clip, server.port, "key-a"), timeout=15)
    assert code != 0


def test_two_rooms_live_at_once_on_one_port(rtmp, live_clip):
    hub, events, server = rtmp({"k1": "room-1", "k2": "room-2"}, grace_s=0.5)
    pushes = [push_rtmp(live_clip, server.port, k) for k in ("k1", "k2")]
    deadline = time.monotonic() + 20
    while len(hub.rooms()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(r.room_id for r in hub.rooms()) == ["room-1", "room-2"]
    for proc in pushes:
        assert finish(proc)[0] == 0
    for room_id in ("room-1", "room-2"):
        room = hub.room(room_id)
        if room is not None:
            assert room.wait_ended(30)
    ended = {e.room_id: e for e in events.ended}
    assert set(ended) == {"room-1", "room-2"}
    for e in ended.values():
        assert probe_duration(e.recording) == pytest.approx(3.0, abs=0.5)
    assert sorted(events.started) == ["room-1", "room-2"]


def test_second_publisher_to_a_live_room_is_refused(rtmp, live_clip):
    hub, _events, server = rtmp({"key-a": "room-a"}, grace_s=0.5)
    proc = push_rtmp(live_clip, server.port, "key-a")
    deadline = time.monotonic() + 10
    while hub.room("room-a") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(IngestRefused):
        hub.publish("room-a", "flv")
    assert finish(proc)[0] == 0


def _feed_in_chunks(publisher, path, chunk_ms=250, duration_s=3.0):
    data = Path(path).read_bytes()
    count = max(1, round(duration_s * 1000 / chunk_ms))
    size = -(-len(data) // count)
    for i in range(0, len(data), size):
        publisher.feed(data[i : i + size])
        time.sleep(chunk_ms / 1000)
    publisher.close()


def test_browser_chunks_produce_live_hls_and_low_latency_feed(make_hub, webm_clip, tmp_path):
    hub, events = make_hub(grace_s=0.5)
    publisher = hub.publish("browser-room", "webm")
    room = hub.room("browser-room")
    flv = bytearray()
    subscription = room.low_latency.subscribe()
    reader = threading.Thread(target=lambda: [flv.extend(c) for c in subscription], daemon=True)
    reader.start()
    _feed_in_chunks(publisher, webm_clip)
    assert room.wait_ended(30)
    reader.join(10)
    assert not reader.is_alive(), "the low-latency stream ends with the room"
    playlist = read_live_playlist(room.playlist("360p"))
    assert playlist is not None and playlist.ended and len(playlist.segments) >= 2
    kinds = {s["codec_type"]: s for s in probe_streams(segment_paths(room, "360p")[-2])}
    assert kinds["video"]["codec_name"] == "h264" and kinds["audio"]["codec_name"] == "aac"
    assert events.started == ["browser-room"]
    path = tmp_path / "ll.flv"
    path.write_bytes(bytes(flv))
    kinds = {s["codec_type"]: s for s in probe_streams(str(path), "flv")}
    assert kinds["video"]["codec_name"] == "h264" and kinds["video"]["height"] == 360
    assert probe_duration(str(path)) == pytest.approx(3.0, abs=0.6)


def test_a_released_room_reports_its_part_closed_before_release_returns(rtmp, live_clip):
    hub, events, server = rtmp({"key-a": "room-a"}, grace_s=4.0)
    push = push_rtmp(live_clip, server.port, "key-a")
    deadline = time.monotonic() + 20
    while not events.started and time.monotonic() < deadline:
        time.sleep(0.1)
    room = hub.room("room-a")
    assert room is not None and room.release()
    # The stopping process may store it at once: ffmpeg has closed it.
    assert [(room_id, part) for room_id, part, _ in events.closed] == [("room-a", 1)]
    assert (
        events.closed[0][2] > 0
        and probe_duration(os.path.join(room.out_dir, "recording", "part_0001.ts")) > 0.5
    )
    finish(push)
    assert events.ended == [] and hub.room("room-a") is None


def test_browser_reconnect_resumes_and_late_viewer_starts_on_a_keyframe(make_hub, webm_clip):
    hub, events = make_hub(grace_s=4.0)
    _feed_in_chunks(hub.publish("cam", "webm"), webm_clip)
    room = hub.room("cam")
    late = room.low_latency.subscribe()
    first = late.get(timeout=5)
    assert first is not None and first.startswith(b"FLV")
    video = [t for t in FlvParser().feed(first) if t.tag_type == TAG_VIDEO]
    assert video[0].is_sequence_header and video[1].is_keyframe
    _feed_in_chunks(hub.publish("cam", "webm"), webm_clip)
    room.end()
    assert [e.reason for e in events.ended] == ["ended"]
    assert events.resumed == ["cam"]
    playlist = read_live_playlist(room.playlist("360p"))
    assert playlist.ended and any(s.discontinuity for s in playlist.segments)
    assert probe_duration(events.ended[0].recording) == pytest.approx(6.0, abs=0.8)


@pytest.fixture(scope="module")
def one_keyframe_webm(tmp_path_factory):
    """A browser camera as MediaRecorder records it: a keyframe at the start, then none."""
    out = tmp_path_factory.mktemp("camera") / "camera.webm"
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "3", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
        "-g", "1000", "-c:a", "libopus", "-f", "webm", "-live", "1", "-y", str(out),
    ]  # fmt: skip
    subprocess.run(argv, check=True, timeout=120)
    return str(out)


def test_a_camera_with_one_keyframe_is_live_from_its_first_frame(make_hub, one_keyframe_webm):
    # The packets ffmpeg reads while probing the input must be decoded, not dropped: dropping
    # them loses the only keyframe, and nothing plays until the browser sends another.
    hub, events = make_hub(grace_s=0.5)
    _feed_in_chunks(hub.publish("cam", "webm"), one_keyframe_webm)
    room = hub.room("cam")
    assert room.wait_ended(30)
    assert events.started == ["cam"]
    assert events.ended[0].recording is not None
    assert probe_duration(events.ended[0].recording) == pytest.approx(3.0, abs=0.5)
    (video,) = [s for s in probe_streams(events.ended[0].recording) if s["codec_type"] == "video"]
    assert video["codec_name"] == "h264"


def test_end_now_stops_the_ingest_and_finalises(make_hub, webm_clip):
    hub, events = make_hub(grace_s=30)
    publisher = hub.publish("r", "webm")
    data = Path(webm_clip).read_bytes()
    publisher.feed(data[: len(data) // 2])
    time.sleep(1.5)
    started = time.monotonic()
    hub.room("r").end()
    assert time.monotonic() - started < 15
    assert publisher.closed
    assert [e.reason for e in events.ended] == ["ended"]
    with pytest.raises(IngestRefused):
        hub.publish("r", "webm")


def test_bad_room_ids_are_rejected(make_hub):
    hub, _ = make_hub()
    for bad in ("", "../x", "a/b", "x" * 65):
        with pytest.raises(ValueError):
            hub.publish(bad)


def test_process_cpu_seconds_reads_proc():
    from media.live.session import process_cpu_seconds

    proc = subprocess.Popen(["sleep", "2"])
    try:
        assert process_cpu_seconds(proc.pid) >= 0.0
    finally:
        proc.kill()
        proc.wait()


def test_rtmp_audio_keeps_time_with_the_video(rtmp, monkeypatch):
    # A live encoder (-re, like OBS) sends 48 kHz AAC with type-3 chunk headers repeating a
    # delta; read as "same timestamp again" the audio clock ran 1.5% slow and the transcoder,
    # interleaving by time, held the video back more every second.
    from media.live import pipeline
    from media.live.flv import TAG_AUDIO

    fed: list[tuple[int, int]] = []
    parser = FlvParser()
    feed = pipeline.Publisher.feed

    def recording_feed(self, chunk: bytes) -> None:
        fed.extend((tag.tag_type, tag.timestamp_ms) for tag in parser.feed(chunk))
        feed(self, chunk)

    monkeypatch.setattr(pipeline.Publisher, "feed", recording_feed)
    hub, _events, server = rtmp({"key-t": "room-t"}, grace_s=0.5)
    argv = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=30",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
        "-f", "flv", f"rtmp://127.0.0.1:{server.port}/live/key-t",
    ]  # fmt: skip
    code, err = finish(subprocess.Popen(argv, stderr=subprocess.PIPE, text=True))
    assert code == 0, err
    room = hub.room("room-t")
    assert room is None or room.wait_ended(30)
    audio = [ts for kind, ts in fed if kind == TAG_AUDIO]
    video = [ts for kind, ts in fed if kind == TAG_VIDEO]
    assert len(audio) > 250 and len(video) > 150
    assert abs((audio[-1] - audio[0]) - (video[-1] - video[0])) < 40
    assert audio == sorted(audio)

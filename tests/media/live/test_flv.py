"""FLV tags and the low-latency fan-out: GOP cache, resume timestamps, slow viewers."""

from __future__ import annotations

import pytest

from media.live.flv import (
    FLV_HEADER,
    TAG_AUDIO,
    TAG_SCRIPT,
    TAG_VIDEO,
    FlvParser,
    LowLatencyFeed,
    flv_tag,
)

AVC_HEADER = bytes([0x17, 0x00]) + b"cfg"
AAC_HEADER = bytes([0xAF, 0x00]) + b"cfg"


def key(ts):
    return FlvParser().feed(FLV_HEADER + flv_tag(TAG_VIDEO, ts, bytes([0x17, 0x01]) + b"k"))[0]


def inter(ts):
    return FlvParser().feed(FLV_HEADER + flv_tag(TAG_VIDEO, ts, bytes([0x27, 0x01]) + b"p"))[0]


def headers():
    data = FLV_HEADER + flv_tag(TAG_SCRIPT, 0, b"meta") + flv_tag(TAG_VIDEO, 0, AVC_HEADER)
    return FlvParser().feed(data + flv_tag(TAG_AUDIO, 0, AAC_HEADER))


def test_tag_layout_and_roundtrip_across_split_reads():
    tag = flv_tag(TAG_VIDEO, 0x01020304, b"abc")
    assert len(tag) == 11 + 3 + 4
    assert tag[4:8] == bytes([0x02, 0x03, 0x04, 0x01])  # 24-bit timestamp, then extension
    assert tag[-4:] == (14).to_bytes(4, "big")
    parser = FlvParser()
    stream = FLV_HEADER + tag + flv_tag(TAG_AUDIO, 5, b"xy")
    tags = [t for i in range(len(stream)) for t in parser.feed(stream[i : i + 1])]
    assert [(t.tag_type, t.timestamp_ms, t.payload) for t in tags] == [
        (TAG_VIDEO, 0x01020304, b"abc"),
        (TAG_AUDIO, 5, b"xy"),
    ]


def test_not_flv_is_rejected():
    with pytest.raises(ValueError):
        FlvParser().feed(b"GIF89a-not-an-flv-stream")


def test_keyframes_and_sequence_headers_are_recognised():
    meta, avc, aac = headers()
    assert avc.is_sequence_header and not avc.is_keyframe
    assert aac.is_sequence_header and not meta.is_sequence_header
    assert key(0).is_keyframe and not inter(0).is_keyframe


def test_late_viewer_starts_with_headers_and_the_current_gop():
    feed = LowLatencyFeed()
    for tag in [*headers(), key(0), inter(33), key(1000), inter(1033)]:
        feed.push(tag)
    start = feed.subscribe().get(timeout=1)
    tags = FlvParser().feed(start)
    assert start.startswith(FLV_HEADER)
    assert [t.timestamp_ms for t in tags] == [0, 0, 0, 1000, 1033]
    assert tags[3].is_keyframe


def test_live_tags_follow_and_the_end_finishes_iteration():
    feed = LowLatencyFeed()
    sub = feed.subscribe()
    feed.push(key(0))
    feed.end()
    chunks = list(sub)
    assert chunks[0] == FLV_HEADER and chunks[1] == key(0).raw
    assert list(feed.subscribe()) == [FLV_HEADER + key(0).raw]


def test_a_resumed_ingest_continues_the_timeline():
    feed = LowLatencyFeed()
    sub = feed.subscribe()
    feed.new_part()
    feed.push(key(0))
    feed.push(inter(5000))
    feed.new_part()
    feed.push(key(0))  # the new connection starts from zero again
    sub.close()
    times = [t.timestamp_ms for t in FlvParser().feed(b"".join(sub))]
    assert times == [0, 5000, 5040]


def test_a_slow_viewer_is_cut_off_not_buffered_forever():
    feed = LowLatencyFeed()
    slow = feed.subscribe(max_chunks=3)
    for ts in range(10):
        feed.push(key(ts))
    assert slow.overflowed and slow.closed
    assert len(list(slow)) <= 3  # iteration ends instead of blocking


def test_listeners_get_start_bytes_and_live_chunks():
    feed = LowLatencyFeed()
    feed.push(key(0))
    got: list[bytes] = []
    start = feed.add_listener(got.append)
    assert start == FLV_HEADER + key(0).raw
    feed.push(inter(33))
    feed.remove_listener(got.append)
    feed.push(inter(66))
    assert got == [inter(33).raw]

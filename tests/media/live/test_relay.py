"""The FLV relay over real HTTP: one upstream per room, the origin's stream as it is, its end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from media.live.flv import FlvParser
from media.live.relay import RelayHub, UpstreamError, fetch
from tests.media.live.origin_stub import OriginStub, video_tag


@pytest.fixture
def origin() -> Iterator[OriginStub]:
    stub = OriginStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def relays() -> Iterator[RelayHub]:
    hub = RelayHub(timeout=5.0, linger_s=0.3)
    yield hub
    hub.close()


def tags_of(subscription, count: int, timeout: float = 5.0) -> list:
    parser, tags = FlvParser(), []
    deadline = time.monotonic() + timeout
    while len(tags) < count and time.monotonic() < deadline:
        chunk = subscription.get(timeout=max(0.01, deadline - time.monotonic()))
        if chunk is None:
            break
        tags += parser.feed(chunk)
    return tags


def wait_until(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_viewers_of_one_room_share_one_upstream_and_get_its_stream(origin, relays):
    feed = relays.feed("room1", f"{origin.url}/live/room1/flv", {"X-Live-Relay": "t"})
    assert relays.feed("room1", f"{origin.url}/live/room1/flv", {}) is feed
    first, second = feed.subscribe(), feed.subscribe()
    origin.flv.put(video_tag(0, key=True) + video_tag(33, key=False))
    for viewer in (first, second):
        tags = tags_of(viewer, 4)  # the two sequence headers, then the keyframe and a frame
        assert [t.timestamp_ms for t in tags] == [0, 0, 0, 33]
        assert tags[0].is_sequence_header and tags[2].is_keyframe
    assert [s.path for s in origin.seen] == ["/live/room1/flv"]
    assert origin.seen[0].headers["X-Live-Relay"] == "t"
    # A viewer arriving later starts at the last keyframe (the relay keeps the GOP cache).
    late = tags_of(feed.subscribe(), 4)
    assert late[2].is_keyframe and late[3].timestamp_ms == 33


def test_the_origin_ending_its_stream_ends_every_viewer_here(origin, relays):
    feed = relays.feed("room1", f"{origin.url}/live/room1/flv", {})
    viewer = feed.subscribe()
    origin.flv.put(video_tag(0, key=True))
    origin.flv.put(None)
    assert len(tags_of(viewer, 10)) == 3  # two headers and the frame, then the end
    assert wait_until(lambda: relays.rooms() == [])
    # The next viewer connects again.
    origin.flv.put(video_tag(40, key=True))
    again = relays.feed("room1", f"{origin.url}/live/room1/flv", {})
    assert again is not feed and len(origin.seen) == 2


def test_the_upstream_closes_once_nobody_watches_here(origin, relays):
    feed = relays.feed("room1", f"{origin.url}/live/room1/flv", {})
    viewer = feed.subscribe()
    viewer.close()
    stop = threading.Event()

    def keep_sending() -> None:
        ms = 0
        while not stop.is_set() and not origin.disconnected.is_set():
            origin.flv.put(video_tag(ms, key=ms % 1000 == 0))
            ms += 40
            time.sleep(0.04)

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    try:
        assert wait_until(origin.disconnected.is_set)  # linger 0.3 s, then closed
        assert wait_until(lambda: relays.rooms() == [])
    finally:
        stop.set()
        sender.join(5)


def test_an_origin_without_the_room_is_an_error_with_its_status(origin, relays):
    origin.flv_status = 404
    with pytest.raises(UpstreamError) as refused:
        relays.feed("room1", f"{origin.url}/live/room1/flv", {})
    assert refused.value.status == 404
    assert relays.rooms() == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/live/x/flv", "ftp://host/x", "nonsense"])
def test_an_unreachable_or_bad_url_is_an_upstream_error(url):
    with pytest.raises(UpstreamError):
        fetch(url, {}, timeout=2.0)

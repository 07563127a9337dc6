"""Live media across nodes with no shared disk, with real processes: OBS (ffmpeg over RTMP) into
node A, viewers on node B (FLV and HLS relayed from A), the replay made by a worker whose live
folder stays empty, from the recording A put in S3."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from media.live.flv import TAG_VIDEO, FlvParser
from media.s3 import make_s3_client
from media.samples import generate_clip
from tests.conftest import S3_BUCKET
from tests.live import log_in
from tests.media.live.conftest import finish, push_rtmp
from tests.processes import Processes, free_port

pytestmark = pytest.mark.ffmpeg

WAIT_S = 40.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("relay-clip")
    return generate_clip(folder / "show.mp4", duration_s=8, width=320, height=180)


def wait_for(check, what: str, processes: Processes, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{processes.logs()}")


def port_open(url: str) -> bool:
    try:
        requests.get(f"{url}/api/v1/auth/csrf", timeout=1)
    except requests.ConnectionError:
        return False
    return True


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def stored_keys(s3: dict[str, str]) -> list[str]:
    listing = make_s3_client(s3).list_objects_v2(Bucket=S3_BUCKET, Prefix="live/")
    return [item["Key"] for item in listing.get("Contents", [])]


def read_flv(response: requests.Response, seconds: float) -> tuple[bytes, list]:
    """What arrives in `seconds`: the first bytes and the tags parsed from them."""
    parser, head, tags = FlvParser(), b"", []
    deadline = time.monotonic() + seconds
    for chunk in response.iter_content(chunk_size=None):
        head = head or chunk[:3]
        tags += parser.feed(chunk)
        if time.monotonic() > deadline:
            break
    return head, tags


def test_a_room_ingested_on_one_node_is_watched_through_another_and_replayed_from_s3(
    s3_server, processes, create_user, clip, tmp_path
):
    live = {name: tmp_path / f"{name}-live" for name in ("a", "b", "c")}
    common = {
        **s3_server,
        "JOBS_MODE": "worker",  # only the worker on "host C" runs the replay
        "LIVE_PRESET": "ultrafast",
        "LIVE_GRACE_SECONDS": "1",
        "TRANSCODE_PRESET": "ultrafast",
        "HLS_SEGMENT_SECONDS": "2",
    }
    # The README's ingest node: `flask live-ingest`, serving its rooms' media on its internal URL.
    rtmp_port, ingest_url = free_port(), f"http://127.0.0.1:{free_port()}"
    ingest_env = {"LIVE_RTMP_PORT": str(rtmp_port), "LIVE_INTERNAL_URL": ingest_url}
    ingest = processes._spawn(
        ["live-ingest", "--http-host", "127.0.0.1"],
        "ingest",
        {**common, **ingest_env, "LIVE_ROOT": str(live["a"])},
    )
    web_url = processes.serve(LIVE_ROOT=str(live["b"]), **common)
    wait_for(lambda: ingest.poll() is None and port_open(ingest_url), "the ingest", processes)
    processes.worker("--queues", "media", LIVE_ROOT=str(live["c"]), **common)

    creator = create_user(creator=True)
    studio = log_in(web_url, creator.email)
    token = studio.get(f"{web_url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    made = studio.post(
        f"{web_url}/api/v1/live/rooms",
        json={"title": "Tea tasting", "featured_product_ids": []},
        headers={"X-CSRFToken": token},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    room = made.json()["id"]
    key = studio.post(
        f"{web_url}/api/v1/live/rooms/{room}/stream-key",
        headers={"X-CSRFToken": token},
        timeout=10,
    ).json()["stream_key"]
    assert requests.get(f"{web_url}/live/{room}/flv", timeout=10).status_code == 404

    push = push_rtmp(clip, rtmp_port, key)
    try:
        # Low latency through B: an FLV stream that starts with a keyframe and keeps flowing.
        def flv_open() -> requests.Response | None:
            answer = requests.get(f"{web_url}/live/{room}/flv", stream=True, timeout=10)
            if answer.status_code == 200:
                return answer
            answer.close()
            return None

        with wait_for(flv_open, "the FLV feed through node B", processes) as flv:
            assert flv.headers["Content-Type"] == "video/x-flv"
            head, tags = read_flv(flv, seconds=2.5)
        assert head == b"FLV"
        video = [tag for tag in tags if tag.tag_type == TAG_VIDEO and not tag.is_sequence_header]
        assert video and video[0].is_keyframe  # a player can start at once
        assert video[-1].timestamp_ms - video[0].timestamp_ms >= 1500  # still coming

        # HLS through B, whose own live folder has nothing of the room.
        master = requests.get(f"{web_url}/live/{room}/hls/master.m3u8", timeout=10)
        assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
        assert master.headers["Cache-Control"] == "no-cache"
        rung = next(line for line in master.text.splitlines() if line.endswith("index.m3u8"))
        playlist = requests.get(f"{web_url}/live/{room}/hls/{rung}", timeout=10).text
        segment_name = [line for line in playlist.splitlines() if line.endswith(".ts")][-1]
        segment_url = f"{web_url}/live/{room}/hls/{rung.rsplit('/', 1)[0]}/{segment_name}"
        segment = requests.get(segment_url, timeout=10)
        assert segment.status_code == 200 and segment.content[:1] == b"\x47"  # MPEG-TS sync
        assert not (live["b"] / room).exists()
    finally:
        assert finish(push)[0] == 0

    # The show ended: the recording went to S3 and left A's disk; C made the replay from S3.
    def replay_published() -> bool:
        answer = requests.get(f"{web_url}/api/v1/live/rooms/{room}/replay-timeline", timeout=10)
        replay = answer.json().get("replay") if answer.ok else None
        return bool(replay and replay.get("playable"))

    wait_for(replay_published, "the replay made on node C", processes, timeout=90)
    assert [p for p in (live["a"] / room).rglob("*") if "recording" in str(p)] == []
    assert files_in(live["c"]) == []  # the worker never needed a live folder
    assert stored_keys(s3_server) == []  # the replay holds its own copy: the recording went

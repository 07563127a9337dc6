"""A live room ingested on one node is watched in low latency through another, no shared disk.

The README's ingest node (`flask live-ingest`, RTMP for OBS) runs on host A beside its web node;
the viewer reads the room through web node B, whose live folder stays empty; the replay is made
on host C from the recording parts A put in S3. Run by `make scale-test` (root, ip netns).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from media.live.flv import TAG_VIDEO, FlvParser
from media.samples import generate_clip
from tests.scale.conftest import Deployment
from tests.scale.hosts import netns_available, wait_http
from tests.scale.test_scale_out import files_in, signed_in, wait_for

pytestmark = pytest.mark.skipif(
    not (os.environ.get("SCALE_TEST") and netns_available()),
    reason="the multi-host test runs with `make scale-test` (root, ip netns)",
)

RTMP_PORT, ORIGIN_PORT = 1935, 8100


def start_ingest(deployment: Deployment) -> str:
    """`flask live-ingest` on host A: RTMP on A's address, its rooms' media on ORIGIN_PORT."""
    node = deployment.web["a"]
    url = f"http://{node.address}:{ORIGIN_PORT}"
    env = {
        **deployment.node_env(node),
        "LIVE_ROOT": str(node.folder / "ingest-live"),
        "LIVE_RTMP_HOST": node.address,
        "LIVE_RTMP_PORT": str(RTMP_PORT),
        "LIVE_INTERNAL_URL": url,
        "LIVE_PRESET": "ultrafast",
        "LIVE_GRACE_SECONDS": "1",
    }
    argv = [sys.executable, "-m", "flask", "live-ingest", "--http-host", node.address]
    node.spawn(argv, env, "live-ingest")
    wait_http(f"{url}/api/v1/auth/csrf", what="the ingest node")
    return url


def test_a_room_ingested_on_a_is_watched_in_low_latency_through_b(
    deployment, create_user, tmp_path
):
    start_ingest(deployment)
    creator = create_user(creator=True)
    studio, headers = signed_in(deployment.urls["a"], creator.email)
    made = studio.post(
        f"{deployment.urls['a']}/api/v1/live/rooms",
        json={"title": "Across hosts, live", "featured_product_ids": []},
        headers=headers,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    room = made.json()["id"]
    key = studio.post(
        f"{deployment.urls['a']}/api/v1/live/rooms/{room}/stream-key", headers=headers, timeout=10
    ).json()["stream_key"]
    clip = generate_clip(tmp_path / "show.mp4", duration_s=10, width=320, height=180)
    address = deployment.web["a"].address
    push = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", clip,
         "-c", "copy", "-f", "flv", f"rtmp://{address}:{RTMP_PORT}/live/{key}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    web_b = deployment.urls["b"]
    try:

        def flv_on_b() -> requests.Response | None:
            answer = requests.get(f"{web_b}/live/{room}/flv", stream=True, timeout=10)
            if answer.status_code == 200:
                return answer
            answer.close()
            return None

        with wait_for(flv_on_b, 30, "the FLV feed through B", deployment) as flv:
            parser, tags, first_at = FlvParser(), [], time.monotonic()
            for chunk in flv.iter_content(chunk_size=None):
                tags += parser.feed(chunk)
                if time.monotonic() - first_at > 2.5:
                    break
        video = [t for t in tags if t.tag_type == TAG_VIDEO and not t.is_sequence_header]
        assert video and video[0].is_keyframe
        assert video[-1].timestamp_ms - video[0].timestamp_ms >= 1500  # flowing, not a dump
        master = requests.get(f"{web_b}/live/{room}/hls/master.m3u8", timeout=10)
        assert master.status_code == 200 and "index.m3u8" in master.text
        assert not (deployment.web["b"].folder / "live" / room).exists()
    finally:
        _out, err = push.communicate(timeout=60)
        assert push.returncode == 0, err

    def replay_playable() -> bool:
        answer = requests.get(f"{web_b}/api/v1/live/rooms/{room}/replay-timeline", timeout=10)
        replay = answer.json().get("replay") if answer.ok else None
        return bool(replay and replay.get("playable"))

    wait_for(replay_playable, 120, "the replay made on C from S3", deployment)
    live_c = deployment.worker_node.folder / "live"
    assert not live_c.exists() or files_in(live_c) == []

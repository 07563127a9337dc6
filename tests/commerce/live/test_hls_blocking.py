"""The room's HLS over HTTP with blocking playlist reload (_HLS_msn), as hls.js asks for it."""

from __future__ import annotations

import os
import threading
import time

import pytest

from media.live.blocking import SERVER_CONTROL
from tests.media.live.test_blocking import playlist

JSON = {"Accept": "application/json"}


@pytest.fixture
def room_folder(app, make_room):
    """A live room whose 720p playlist lists segments 10-12 (what ffmpeg would have written)."""
    _api, room_id = make_room(live=True)
    folder = os.path.join(app.config["LIVE_ROOT"], room_id)
    os.makedirs(os.path.join(folder, "720p"))
    with open(os.path.join(folder, "master.m3u8"), "w") as fh:
        fh.write("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n")
    with open(os.path.join(folder, "720p", "index.m3u8"), "w") as fh:
        fh.write(playlist(10, 3))
    return room_id, folder


def test_media_playlists_advertise_blocking_reload_and_the_master_does_not(client, room_folder):
    room_id, _folder = room_folder
    media = client.get(f"/live/{room_id}/hls/720p/index.m3u8")
    assert media.status_code == 200 and media.headers["Cache-Control"] == "no-cache"
    assert SERVER_CONTROL in media.get_data(as_text=True).splitlines()
    master = client.get(f"/live/{room_id}/hls/master.m3u8")
    assert master.status_code == 200 and SERVER_CONTROL not in master.get_data(as_text=True)


def test_a_reload_for_the_next_segment_waits_for_it(client, room_folder):
    room_id, folder = room_folder
    path = os.path.join(folder, "720p", "index.m3u8")

    def encoder() -> None:
        time.sleep(0.4)
        with open(path + ".tmp", "w") as fh:
            fh.write(playlist(11, 3))
        os.replace(path + ".tmp", path)

    thread = threading.Thread(target=encoder)
    started = time.monotonic()
    thread.start()
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13")
    waited = time.monotonic() - started
    thread.join()
    assert response.status_code == 200
    assert "seg_00013.ts" in response.get_data(as_text=True)
    assert waited >= 0.35


def test_a_listed_segment_is_answered_at_once(client, room_folder):
    room_id, _folder = room_folder
    started = time.monotonic()
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=12&_HLS_part=0")
    assert response.status_code == 200 and time.monotonic() - started < 0.3


@pytest.mark.parametrize(
    "query", ["_HLS_msn=15", "_HLS_msn=x", "_HLS_part=1", "_HLS_msn=13&_HLS_part=-1"]
)
def test_bad_directives_are_400_with_a_message(client, room_folder, query):
    room_id, _folder = room_folder
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?{query}", headers=JSON)
    assert response.status_code == 400
    assert "_HLS_" in response.get_json()["error"]["message"]


def test_a_segment_that_does_not_come_is_503_after_three_target_durations(client, room_folder):
    room_id, _folder = room_folder
    started = time.monotonic()
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13", headers=JSON)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "late"
    assert 2.9 <= time.monotonic() - started < 5


def test_without_a_free_slot_the_playlist_is_answered_at_once(app, client, room_folder):
    room_id, _folder = room_folder
    app.config["LIVE_HLS_BLOCKING_WAITS"] = 1
    client.get(f"/live/{room_id}/hls/master.m3u8")  # the slots are made on first use
    slots = app.extensions["live_hls_waits"]
    assert slots.acquire(blocking=False)  # another viewer is waiting
    try:
        started = time.monotonic()
        response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13")
        assert response.status_code == 200 and time.monotonic() - started < 0.3
        assert "seg_00012.ts" in response.get_data(as_text=True)  # what there is: the player polls
    finally:
        slots.release()


def test_blocking_reload_can_be_turned_off(app, client, room_folder):
    room_id, _folder = room_folder
    app.config["LIVE_HLS_BLOCKING_WAITS"] = 0
    started = time.monotonic()
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13")
    assert response.status_code == 200 and time.monotonic() - started < 0.3
    assert SERVER_CONTROL not in response.get_data(as_text=True)


def test_a_private_room_still_needs_access_before_any_wait(client, app, make_room, host):
    _api, room_id = make_room(live=False)  # scheduled: not on air
    response = client.get(f"/live/{room_id}/hls/720p/index.m3u8?_HLS_msn=13")
    assert response.status_code == 404

"""Removing a room's live folder: by room id, inside the live root only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from media.live import remove_room_folder, room_folder


def _room(root: Path, room_id: str = "r00m-ID_1") -> Path:
    folder = root / room_id
    for name in ("360p/index.m3u8", "360p/seg_00001.ts", "recording/part_0000.ts"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    (folder / "master.m3u8").write_text("#EXTM3U\n")
    (folder / "recording.mp4").write_bytes(b"mp4")
    return folder


def test_the_whole_room_folder_goes_and_only_it(tmp_path):
    folder, other = _room(tmp_path), _room(tmp_path, "other")
    assert remove_room_folder(tmp_path, "r00m-ID_1") is True
    assert not folder.exists() and (other / "recording.mp4").exists()
    assert remove_room_folder(tmp_path, "r00m-ID_1") is False  # already gone: nothing to do


@pytest.mark.parametrize("room_id", ["", ".", "..", "../other", "a/b", "a\\b", "x" * 65, "é"])
def test_a_room_id_that_could_name_another_path_is_refused(tmp_path, room_id):
    _room(tmp_path, "other")
    with pytest.raises(ValueError):
        remove_room_folder(tmp_path / "other", room_id)
    with pytest.raises(ValueError):
        room_folder(tmp_path, room_id)
    assert (tmp_path / "other" / "recording.mp4").exists()


def test_links_are_removed_never_followed(tmp_path):
    root, outside = tmp_path / "live", _room(tmp_path / "elsewhere", "kept")
    root.mkdir()
    os.symlink(outside, root / "linked")  # the room folder itself is a link
    folder = _room(root)
    os.symlink(outside, folder / "escape")  # a link inside the room folder
    assert remove_room_folder(root, "linked") and remove_room_folder(root, "r00m-ID_1")
    assert not (root / "linked").exists() and not folder.exists()
    assert (outside / "recording.mp4").exists() and (outside / "360p/seg_00001.ts").exists()


def test_the_root_may_be_reached_through_a_link(tmp_path):
    real = tmp_path / "nfs"
    real.mkdir()
    folder = _room(real)
    os.symlink(real, tmp_path / "live")  # LIVE_ROOT pointing at a shared mount
    assert room_folder(tmp_path / "live", "r00m-ID_1") == str(folder)
    assert remove_room_folder(str(tmp_path / "live"), "r00m-ID_1") and not folder.exists()

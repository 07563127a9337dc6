"""A rung published while ffmpeg still encodes it: EVENT playlist of finished segments, then VOD."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from media.commands import ENCODING_PLAYLIST_NAME
from media.hls import parse_media_playlist
from media.progressive import GrowingRendition, retyped_playlist

FFMPEG_EVENT = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
seg_00000.ts
#EXTINF:1.000000,
seg_00001.ts
"""


def test_growing_playlist_plays_from_the_start() -> None:
    text = retyped_playlist(FFMPEG_EVENT, ended=False)
    lines = text.splitlines()
    assert lines[:3] == ["#EXTM3U", "#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-START:TIME-OFFSET=0"]
    assert lines.count("#EXT-X-PLAYLIST-TYPE:EVENT") == 1
    assert "#EXT-X-ENDLIST" not in lines and lines[-1] == "seg_00001.ts"


def test_ended_playlist_becomes_vod() -> None:
    text = retyped_playlist(FFMPEG_EVENT + "#EXT-X-ENDLIST\n", ended=True)
    lines = text.splitlines()
    assert lines[1] == "#EXT-X-PLAYLIST-TYPE:VOD"
    assert not any(ln.startswith("#EXT-X-START") or ln.endswith("EVENT") for ln in lines)
    assert lines[-1] == "#EXT-X-ENDLIST"


@pytest.mark.ffmpeg
def test_segments_are_published_while_ffmpeg_encodes(tmp_path: Path) -> None:
    """A real ffmpeg paced at real time (-re): the public playlist grows before it ends."""
    growing = GrowingRendition(str(tmp_path), min_segments=2)
    argv = [
        "ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
        "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-f", "hls",
        "-hls_time", "1", "-hls_playlist_type", "event",
        "-hls_flags", "independent_segments+temp_file",
        "-hls_segment_filename", str(tmp_path / "seg_%05d.ts"),
        str(tmp_path / ENCODING_PLAYLIST_NAME),
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    seen_while_running: list[int] = []
    try:
        while process.poll() is None:
            if growing.refresh():
                playlist = parse_media_playlist(growing.public_playlist)
                # Every listed segment is whole: ffmpeg renames it into place when done.
                for segment in playlist.segments:
                    assert (tmp_path / segment.uri).stat().st_size > 0
                if not playlist.ended:  # ffmpeg may finish between two looks on a busy machine
                    seen_while_running.append(len(playlist.segments))
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert seen_while_running and seen_while_running[0] >= 2, "announced while encoding"
    assert seen_while_running == sorted(seen_while_running)
    growing.finish()
    final = parse_media_playlist(growing.public_playlist)
    assert final.ended and len(final.segments) == 4
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in Path(growing.public_playlist).read_text()
    assert not (tmp_path / ENCODING_PLAYLIST_NAME).exists()
    assert not list(tmp_path.glob("*.tmp"))

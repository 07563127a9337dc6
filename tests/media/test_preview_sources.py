"""Sources browsers cannot play as they are (HEVC, VP9, a rotated clip) play first as a preview."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from media.hls import codecs_string, parse_master_playlist, parse_media_playlist
from media.probe import probe_video
from media.transcode import transcode_video

pytestmark = pytest.mark.ffmpeg

# How each kind is made from the H.264 landscape clip (640x360, 3 s).
RECIPES = {
    "hevc": (".mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                      "-tag:v", "hvc1", "-c:a", "copy"]),
    "vp9": (".webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                      "-b:v", "500k", "-c:a", "libopus"]),
    "rotated": (".mp4", ["-c", "copy", "-metadata:s:v:0", "rotate=90"]),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(RECIPES))
def test_source_plays_first_as_a_growing_preview(
    kind: str, landscape_clip: str, tmp_path: Path
) -> None:
    suffix, args = RECIPES[kind]
    src = tmp_path / f"source{suffix}"
    argv = ["ffmpeg", "-v", "error", "-y", "-i", landscape_clip, *args, str(src)]
    subprocess.run(argv, check=True, timeout=120)
    probe = probe_video(src)
    seen: dict[str, Any] = {}

    def on_first_playable(folder: str, _rungs: Any) -> None:
        seen["master"] = parse_master_playlist(Path(folder) / "master.m3u8")

    out = tmp_path / "out"
    result = transcode_video(
        src, out, probe, segment_s=1, preset="ultrafast", on_first_playable=on_first_playable
    )
    assert "preview" in result.timings and "instant" not in result.timings
    assert [v["uri"] for v in seen["master"]] == ["preview/index.m3u8"]
    lowest = result.renditions[0]
    # Display size: a rotated clip's preview stands upright, as its ladder does.
    assert seen["master"][0]["RESOLUTION"] == f"{lowest.width}x{lowest.height}"
    if kind == "rotated":
        assert lowest.height > lowest.width
    preview = parse_media_playlist(out / "preview" / "index.m3u8")
    assert preview.ended
    assert preview.duration_s == pytest.approx(probe.duration_s, abs=0.15)
    first = out / "preview" / preview.segments[0].uri
    assert seen["master"][0]["CODECS"] == codecs_string(first, has_audio=probe.has_audio)
    assert "preview/" not in (out / "master.m3u8").read_text()

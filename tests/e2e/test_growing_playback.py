"""A video still being encoded plays in Chromium from 0 as its playlist grows, to the end.

A source that cannot be copied (HEVC, rotated) is published segment by segment as an EVENT
playlist (media/progressive.py). Here the app serves such a playlist while the test appends the
segments an encoder would, and the studio's own player (static/js/player.js, hls.js) plays it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from commerce.extensions import db
from commerce.videos.models import Video
from media.hls import codecs_string, parse_media_playlist
from media.progressive import retyped_playlist
from tests.e2e.test_studio_to_feed import _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.ffmpeg]
SEGMENT_S = 1  # the preview's (media/commands.py PREVIEW_SEGMENT_S)


def _encoded_segments(folder: Path) -> tuple[str, list[str]]:
    """A 12 s 240p preview (the pipeline's settings): ffmpeg's playlist text and segment names."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "12",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
         "-profile:v", "baseline", "-level:v", "3.1", "-g", "30", "-keyint_min", "30",
         "-sc_threshold", "0", "-c:a", "aac", "-f", "hls", "-hls_time", str(SEGMENT_S),
         "-hls_playlist_type", "event", "-hls_segment_filename", str(folder / "seg_%05d.ts"),
         str(folder / "ffmpeg.m3u8")],
        check=True,
    )  # fmt: skip
    text = (folder / "ffmpeg.m3u8").read_text()
    return text, [s.uri for s in parse_media_playlist(folder / "ffmpeg.m3u8").segments]


def _first_segments(ffmpeg_text: str, count: int) -> str:
    """ffmpeg's playlist as it was when `count` segments were finished (no ENDLIST yet)."""
    lines, seen = [], 0
    for line in ffmpeg_text.splitlines():
        if line == "#EXT-X-ENDLIST":
            break
        if line.startswith("#EXTINF") and seen == count:
            break
        lines.append(line)
        seen += not line.startswith("#") and bool(line)
    return "\n".join(lines) + "\n"


def _poll(page, expression: str, timeout_s: float) -> float:
    """Wait for a page value (wait_for_function would eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value is not None:
            return float(value)
        time.sleep(0.1)
    raise AssertionError(f"{expression} stayed empty for {timeout_s:.0f} s")


def test_a_growing_rendition_plays_from_the_start_to_the_end(
    app, live_server, browser, create_user, tmp_path: Path
):
    from playwright.sync_api import expect

    creator = create_user(creator=True)
    encoded = tmp_path / "encoded"
    encoded.mkdir()
    ffmpeg_text, segments = _encoded_segments(encoded)
    with app.app_context():
        video = Video(
            public_id="growing0001",
            creator_id=creator.id,
            title="Still encoding",
            state="processing",
            progress=10,
            playable=True,
            width=426,
            height=240,
        )
        db.session.add(video)
        db.session.flush()
        video.master_key = f"{video.storage_prefix}hls/master.m3u8"
        db.session.commit()
        rung = Path(app.config["STORAGE_LOCAL_ROOT"]) / video.storage_prefix / "hls" / "preview"
    rung.mkdir(parents=True)
    codecs = codecs_string(encoded / segments[0], has_audio=True)
    (rung.parent / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=426x240,CODECS="{codecs}"\n'
        "preview/index.m3u8\n"
    )

    def publish(count: int) -> None:
        for name in segments[:count]:
            target = rung / name
            if not target.exists():
                target.write_bytes((encoded / name).read_bytes())
        ended = count == len(segments)
        text = ffmpeg_text if ended else _first_segments(ffmpeg_text, count)
        (rung / "index.m3u8").write_text(retyped_playlist(text, ended=ended))

    publish(1)  # announced after its first finished segment, as the pipeline does
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _log_in(page, live_server.url, creator.email)
    page.goto(f"{live_server.url}/studio/videos/{video.public_id}")
    player = page.locator("video")
    expect(player).to_have_attribute("controls", "", timeout=10_000)
    page.evaluate(
        """() => { const v = document.querySelector('video'); v.muted = true;
        window.firstPlaying = null;
        v.addEventListener('playing', () => { if (window.firstPlaying === null)
          window.firstPlaying = v.currentTime; });
        v.addEventListener('ended', () => { window.endedAt = v.currentTime; });
        v.play(); }"""
    )
    first_playing = _poll(page, "() => window.firstPlaying", 15)
    assert first_playing < 1.0, "joined at the start, not the live edge"
    # The encoder runs ahead of playback (2.5x real time on the bench, 1.3x assumed here).
    for count in range(2, len(segments) + 1):
        time.sleep(0.75)
        publish(count)
    ended_at = _poll(page, "() => window.endedAt", 30)
    assert ended_at == pytest.approx(SEGMENT_S * len(segments), abs=0.6)
    context.close()

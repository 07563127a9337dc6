"""Real ffmpeg runs: HLS ladder, early first rendition, fallback, poster, sprite, progress."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from media.ffrun import TranscodeError
from media.hls import codecs_string, parse_master_playlist, parse_media_playlist
from media.probe import probe_video
from media.transcode import make_poster, transcode_video

from .conftest import SEGMENT_S, TranscodeRun

pytestmark = pytest.mark.ffmpeg


def _ffprobe(path: Path | str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def _video_packets(path: Path) -> list[dict[str, Any]]:
    data = _ffprobe(path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags")
    return list(data.get("packets", []))


def test_master_playlist(any_run: TranscodeRun) -> None:
    variants = parse_master_playlist(any_run.out_dir / "master.m3u8")
    result = any_run.result
    assert [v["uri"] for v in variants] == [r.playlist for r in result.renditions]
    bandwidths = [int(v["BANDWIDTH"]) for v in variants]
    assert bandwidths == sorted(bandwidths), "ordered low to high"
    for v, r in zip(variants, result.renditions, strict=True):
        assert v["RESOLUTION"] == f"{r.width}x{r.height}"
        assert int(v["AVERAGE-BANDWIDTH"]) <= int(v["BANDWIDTH"])
        video, *audio = v["CODECS"].split(",")
        assert re.fullmatch(r"avc1\.[0-9a-f]{6}", video)
        assert audio == (["mp4a.40.2"] if any_run.probe.has_audio else [])
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in (any_run.out_dir / "master.m3u8").read_text()


def test_renditions_never_above_source(any_run: TranscodeRun) -> None:
    probe = any_run.probe
    for r in any_run.result.renditions:
        assert r.height <= probe.height and r.width <= probe.width
        first = any_run.out_dir / r.name / "seg_00000.ts"
        info = _ffprobe(first, "-select_streams", "v:0", "-show_entries", "stream=width,height")
        stream = info["streams"][0]
        assert (stream["width"], stream["height"]) == (r.width, r.height)


def test_segments_exist_with_expected_durations(any_run: TranscodeRun) -> None:
    for r in any_run.result.renditions:
        playlist = parse_media_playlist(any_run.out_dir / r.playlist)
        assert playlist.ended and playlist.independent
        assert playlist.target_duration == round(SEGMENT_S)
        assert playlist.duration_s == pytest.approx(any_run.probe.duration_s, abs=0.15)
        for seg in playlist.segments[:-1]:
            assert seg.duration_s == pytest.approx(SEGMENT_S, abs=0.05)
            assert (any_run.out_dir / r.name / seg.uri).stat().st_size > 0
        assert 0 < playlist.segments[-1].duration_s <= SEGMENT_S + 0.05


def test_keyframes_align_across_renditions(any_run: TranscodeRun) -> None:
    keyframes: dict[str, list[str]] = {}
    segment_counts = set()
    for r in any_run.result.renditions:
        playlist = parse_media_playlist(any_run.out_dir / r.playlist)
        segment_counts.add(len(playlist.segments))
        times = []
        for seg in playlist.segments:
            packets = _video_packets(any_run.out_dir / r.name / seg.uri)
            assert packets[0]["flags"].startswith("K"), f"{r.name}/{seg.uri} starts on a keyframe"
            times += [p["pts_time"] for p in packets if p["flags"].startswith("K")]
        keyframes[r.name] = times
    reference = next(iter(keyframes.values()))
    assert len(segment_counts) == 1, "same segment count in every rendition"
    assert len(reference) == segment_counts.pop(), "exactly one keyframe per segment"
    assert all(times == reference for times in keyframes.values())


def test_first_rendition_published_before_the_rest(any_run: TranscodeRun) -> None:
    seen = any_run.first_playable
    result = any_run.result
    assert seen, "on_first_playable was called"
    assert seen["playlist"].ended and seen["playlist"].segments
    assert seen["rungs"] == [], "nothing of the ladder exists yet"
    if any_run.copied:  # the source's own H.264, segmented as it is
        assert [v["uri"] for v in seen["master"]] == ["instant/index.m3u8"]
        assert seen["master"][0]["RESOLUTION"] == f"{any_run.probe.width}x{any_run.probe.height}"
    else:  # the preview, at the lowest rung's size
        lowest = result.renditions[0]
        assert [v["uri"] for v in seen["master"]] == ["preview/index.m3u8"]
        assert seen["master"][0]["RESOLUTION"] == f"{lowest.width}x{lowest.height}"
    later = {r.name for r in result.renditions}
    made = {f.split("/")[0] for f in seen["files"] if f.endswith(".ts")}
    assert not made & later, "the ladder had not run yet"
    assert "fallback.mp4" not in seen["files"]
    assert seen["at"] < any_run.finished_at
    assert seen["progress"] < 1.0


def test_instant_rendition_is_the_source_stream_and_stays_unlisted(any_run: TranscodeRun) -> None:
    if not any_run.copied:
        assert "instant" not in {f.split("/")[0] for f in any_run.result.files}
        return
    playlist = parse_media_playlist(any_run.out_dir / "instant" / "index.m3u8")
    assert playlist.duration_s == pytest.approx(any_run.probe.duration_s, abs=0.15)
    source = _video_packets(Path(any_run.src))
    copied: list[dict[str, Any]] = []
    for seg in playlist.segments:
        packets = _video_packets(any_run.out_dir / "instant" / seg.uri)
        assert packets[0]["flags"].startswith("K"), f"instant/{seg.uri} starts on a keyframe"
        copied += packets
    assert len(copied) == len(source), "every source frame copied, none re-encoded or dropped"
    # A player that started on it plays to the end; new players get the ladder only.
    assert "instant/index.m3u8" not in (any_run.out_dir / "master.m3u8").read_text()
    assert "instant/index.m3u8" in any_run.result.files


def test_preview_has_short_segments_and_stays_unlisted(any_run: TranscodeRun) -> None:
    if any_run.copied:
        assert "preview" not in {f.split("/")[0] for f in any_run.result.files}
        return
    playlist = parse_media_playlist(any_run.out_dir / "preview" / "index.m3u8")
    assert playlist.ended and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist_text(any_run, "preview")
    assert playlist.duration_s == pytest.approx(any_run.probe.duration_s, abs=0.15)
    for seg in playlist.segments[:-1]:
        assert seg.duration_s == pytest.approx(1.0, abs=0.05), "1 s: the first is out soonest"
    for seg in playlist.segments:
        packets = _video_packets(any_run.out_dir / "preview" / seg.uri)
        assert packets[0]["flags"].startswith("K"), f"preview/{seg.uri} starts on a keyframe"
    lowest = any_run.result.renditions[0]
    info = _ffprobe(
        any_run.out_dir / "preview" / playlist.segments[0].uri,
        "-select_streams", "v:0", "-show_entries", "stream=width,height",
    )  # fmt: skip
    assert (info["streams"][0]["width"], info["streams"][0]["height"]) == (
        lowest.width,
        lowest.height,
    )
    # Its CODECS are declared, not probed: they must be what x264 wrote.
    first = any_run.out_dir / "preview" / playlist.segments[0].uri
    declared = any_run.first_playable["master"][0]["CODECS"]
    assert declared == codecs_string(first, has_audio=any_run.probe.has_audio)
    # A player that started on it plays to the end; new players get the ladder only, whose
    # lowest rung is encoded again from the source (the preview's quality never stays).
    assert "preview/index.m3u8" not in (any_run.out_dir / "master.m3u8").read_text()
    assert (any_run.out_dir / lowest.name / "index.m3u8").exists()


def playlist_text(run: TranscodeRun, name: str) -> str:
    return (run.out_dir / name / "index.m3u8").read_text()


def test_progress_monotonic_to_one(any_run: TranscodeRun) -> None:
    progress = any_run.progress
    assert progress and progress[-1] == 1.0
    assert progress == sorted(progress) and all(0 < p <= 1 for p in progress)
    assert progress.count(1.0) == 1


def test_fallback_mp4_plays(any_run: TranscodeRun) -> None:
    fallback = any_run.out_dir / any_run.result.fallback
    info = _ffprobe(fallback, "-show_format", "-show_streams")
    assert float(info["format"]["duration"]) == pytest.approx(any_run.probe.duration_s, abs=0.15)
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == (["audio", "video"] if any_run.probe.has_audio else ["video"])
    top = any_run.result.renditions[-1]
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (top.width, top.height)
    head = fallback.read_bytes()[:4096]
    assert b"moov" in head, "faststart: moov before mdat"
    # Decoding the whole file must not report errors.
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(fallback), "-f", "null", "-"],
        capture_output=True,
        timeout=60,
    )
    assert decode.returncode == 0 and not decode.stderr.strip()


def _jpeg_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:3] == b"\xff\xd8\xff", f"{path.name} is a JPEG"
    stream = _ffprobe(path, "-show_entries", "stream=width,height,codec_name")["streams"][0]
    assert stream["codec_name"] == "mjpeg"
    return stream["width"], stream["height"]


def test_poster_and_sprite(any_run: TranscodeRun) -> None:
    result = any_run.result
    top = result.renditions[-1]
    assert _jpeg_size(any_run.out_dir / result.poster) == (top.width, top.height)
    tiles = result.sprite_tiles
    assert tiles >= 4
    assert result.sprite_interval_s == pytest.approx(any_run.probe.duration_s / tiles)
    assert result.sprite_tile_width == 160
    low = result.renditions[0]
    assert abs(result.sprite_tile_height - 160 * low.height / low.width) <= 2
    assert _jpeg_size(any_run.out_dir / result.sprite) == (160 * tiles, result.sprite_tile_height)


def test_file_list_matches_disk(any_run: TranscodeRun) -> None:
    on_disk = sorted(
        str(p.relative_to(any_run.out_dir)) for p in any_run.out_dir.rglob("*") if p.is_file()
    )
    assert any_run.result.files == on_disk
    assert not any(os.path.basename(f).startswith(".tmp") for f in on_disk)


def test_ladders_per_shape(landscape_run, portrait_run, tiny_run) -> None:
    assert [r.name for r in landscape_run.result.renditions] == ["240p", "360p"]
    assert [(r.width, r.height) for r in portrait_run.result.renditions] == [(240, 426), (360, 640)]
    assert [r.name for r in tiny_run.result.renditions] == ["112p"]


def test_make_poster_alone(portrait_clip: str, tmp_path: Path) -> None:
    out = tmp_path / "cover.jpg"
    assert make_poster(portrait_clip, 2.5, out, 200) == (200, 356)
    assert _jpeg_size(out) == (200, 356)
    # A time past the end still yields the last frames rather than nothing.
    assert make_poster(portrait_clip, 99, tmp_path / "late.jpg", 1000) == (360, 640)


def test_refuses_non_empty_output(landscape_clip: str, tmp_path: Path) -> None:
    (tmp_path / "stale.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        transcode_video(landscape_clip, tmp_path, probe_video(landscape_clip))


def test_ffmpeg_failure_raises(landscape_clip: str, tmp_path: Path) -> None:
    probe = probe_video(landscape_clip)
    with pytest.raises(TranscodeError):
        transcode_video(tmp_path / "gone.mp4", tmp_path / "out", probe, preset="ultrafast")

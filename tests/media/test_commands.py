"""The argv our builders produce, checked without running ffmpeg."""

from __future__ import annotations

import os

import pytest

from media.commands import (
    build_fallback,
    build_hls,
    build_poster,
    build_preview_hls,
    build_sprite,
)
from media.ffrun import ffmpeg_argv, niced
from media.ladder import plan_ladder
from media.probe import ProbeResult

PROBE = ProbeResult(
    duration_s=60.0,
    width=1080,
    height=1920,
    fps=30.0,
    video_codec="h264",
    has_audio=True,
    rotation=0,
    demuxer="mov",
    video_index=0,
    audio_index=1,
)
SILENT = ProbeResult(
    duration_s=10.0,
    width=640,
    height=360,
    fps=120.0,
    video_codec="hevc",
    has_audio=False,
    rotation=0,
    demuxer="matroska",
)


def _opt(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def _outputs(args: list[str]) -> list[str]:
    return [a for a in args if a.endswith(".m3u8")]


def test_stage1_argv_has_gop_and_hls_flags(tmp_path) -> None:
    rungs = plan_ladder(PROBE.width, PROBE.height)
    args = build_hls("/src/in.mp4", PROBE, rungs[:1], tmp_path, segment_s=4).get_args()
    assert _opt(args, "-i") == ["/src/in.mp4"]
    assert _opt(args, "-f")[0] == "mov", "input demuxer pinned to the probed one"
    assert _opt(args, "-protocol_whitelist") == ["file"]
    assert _opt(args, "-g") == ["120"]
    assert _opt(args, "-keyint_min") == ["120"]
    assert _opt(args, "-sc_threshold") == ["0"]
    assert _opt(args, "-force_key_frames") == ["expr:gte(t,n_forced*4)"]
    assert _opt(args, "-c:v") == ["libx264"]
    assert _opt(args, "-preset") == ["veryfast"]
    assert _opt(args, "-pix_fmt") == ["yuv420p"]
    assert _opt(args, "-b:v") == ["400k"]
    assert _opt(args, "-maxrate") == ["440k"]
    assert _opt(args, "-bufsize") == ["800k"]
    assert _opt(args, "-c:a") == ["aac"]
    assert _opt(args, "-ar") == ["48000"]
    assert _opt(args, "-ac") == ["2"]
    assert _opt(args, "-hls_time") == ["4"]
    assert _opt(args, "-hls_playlist_type") == ["vod"]
    assert _opt(args, "-hls_flags") == ["independent_segments"]
    assert _opt(args, "-hls_segment_filename") == [os.path.join(tmp_path, "240p", "seg_%05d.ts")]
    assert _opt(args, "-map_metadata") == ["-1"]
    assert _outputs(args) == [os.path.join(tmp_path, "240p", "index.m3u8")]
    graph = _opt(args, "-filter_complex")[0]
    assert "scale=240:426" in graph and "split" not in graph
    assert "-y" in args


def test_stage2_argv_single_decode_split(tmp_path) -> None:
    rungs = plan_ladder(PROBE.width, PROBE.height)[1:]
    args = build_hls("/src/in.mp4", PROBE, rungs, tmp_path, preset="fast").get_args()
    assert args.count("-i") == 1, "one decode feeds every rung"
    graph = _opt(args, "-filter_complex")[0]
    assert "split=2" in graph
    assert "scale=480:854" in graph and "scale=720:1280" in graph
    assert _opt(args, "-g") == ["120", "120"]
    assert _opt(args, "-keyint_min") == ["120", "120"]
    assert _opt(args, "-sc_threshold") == ["0", "0"]
    assert _opt(args, "-b:v") == ["1000k", "2500k"]
    assert _opt(args, "-b:a") == ["96k", "128k"]
    assert _opt(args, "-preset") == ["fast", "fast"]
    assert _opt(args, "-map").count("0:1") == 2, "audio stream mapped by probed index"
    assert _outputs(args) == [
        os.path.join(tmp_path, "480p", "index.m3u8"),
        os.path.join(tmp_path, "720p", "index.m3u8"),
    ]


def test_no_upscale_in_any_built_command(tmp_path) -> None:
    small = ProbeResult(3.0, 640, 360, 30.0, "h264", True, 0)
    args = build_hls("/src/s.mp4", small, plan_ladder(640, 360), tmp_path).get_args()
    graph = _opt(args, "-filter_complex")[0]
    assert "scale=640:360" in graph and "1280" not in graph and "720" not in graph


def test_silent_high_fps_source(tmp_path) -> None:
    args = build_hls("/src/s.mkv", SILENT, plan_ladder(640, 360), tmp_path, segment_s=2).get_args()
    assert "-c:a" not in args and "-b:a" not in args
    assert _opt(args, "-f")[0] == "matroska"
    graph = _opt(args, "-filter_complex")[0]
    assert "fps=fps=30" in graph, "120 fps sources are brought down to 30"
    assert _opt(args, "-g") == ["60", "60"]


def test_fallback_remux_argv(tmp_path) -> None:
    args = build_fallback(tmp_path / "720p/index.m3u8", tmp_path / "f.mp4", has_audio=True)
    argv = args.get_args()
    assert _opt(argv, "-c") == ["copy"], "the fallback is a remux, never a re-encode"
    assert _opt(argv, "-bsf:a") == ["aac_adtstoasc"]
    assert _opt(argv, "-movflags") == ["+faststart"]
    silent = build_fallback(tmp_path / "a.m3u8", tmp_path / "f.mp4", has_audio=False).get_args()
    assert "-bsf:a" not in silent


def test_poster_and_sprite_argv(tmp_path) -> None:
    poster = build_poster("/src/in.mp4", PROBE, 1.0, tmp_path / "p.jpg", 720, 1280).get_args()
    assert poster.index("-ss") < poster.index("-i"), "input seek: no decode from the start"
    assert _opt(poster, "-frames:v") == ["1"]
    assert "scale=720:1280" in _opt(poster, "-filter_complex")[0]
    sprite = build_sprite(
        tmp_path / "240p/index.m3u8",
        tmp_path / "t.jpg",
        tiles=10,
        interval_s=6.0,
        tile_width=160,
        tile_height=284,
        input_format="hls",
    ).get_args()
    graph = _opt(sprite, "-filter_complex")[0]
    assert "tile=10x1" in graph and "scale=160:284" in graph
    assert "select=gte(t\\,(selected_n+0.5)*6.000000)" in graph


def test_full_argv_has_progress_and_nice(tmp_path) -> None:
    stream = build_hls("/src/in.mp4", PROBE, plan_ladder(1080, 1920)[:1], tmp_path)
    argv = ffmpeg_argv(stream)
    assert argv[0].endswith("ffmpeg")
    assert argv[argv.index("-progress") + 1] == "pipe:1" and "-nostats" in argv
    wrapped = niced(argv)
    assert wrapped[1:3] == ["-n", "10"] and wrapped[3:] == argv


@pytest.mark.parametrize("bad", ["../etc", "medium; rm -rf /"])
def test_unknown_preset_refused(tmp_path, bad: str) -> None:
    from media.transcode import transcode_video

    with pytest.raises(ValueError):
        transcode_video("/nonexistent.mp4", tmp_path / "out", PROBE, preset=bad)


def test_tail_check_argv() -> None:
    from media.probe import build_tail_check

    args = build_tail_check("/up/a.mp4", "mov", 2, 10.0).get_args()
    assert args[: args.index("-i") + 2] == [
        "-f",
        "mov",
        "-protocol_whitelist",
        "file",
        "-ss",
        "9.000",
        "-i",
        "/up/a.mp4",
    ], "seek before -i: only the last second is decoded"
    assert _opt(args, "-map") == ["0:2"] and args[-3:] == ["-f", "null", "-"]


@pytest.mark.parametrize(
    ("probe", "gop", "audio"),
    [(PROBE, "30", True), (SILENT, "30", False)],  # 120 fps brought to 30 there too
)
def test_preview_argv_is_fast_short_and_declared(tmp_path, probe, gop: str, audio: bool) -> None:
    lowest = plan_ladder(probe.width, probe.height)[0]
    args = build_preview_hls("/src/in", probe, lowest, tmp_path).get_args()
    assert args.index("-skip_loop_filter") < args.index("-i"), "a decoder option"
    assert _opt(args, "-skip_loop_filter") == ["all"]
    assert _opt(args, "-preset") == ["ultrafast"] and _opt(args, "-tune") == ["zerolatency"]
    assert _opt(args, "-profile:v") == ["baseline"] and _opt(args, "-level:v") == ["3.1"]
    assert _opt(args, "-hls_time") == ["1"] and _opt(args, "-g") == [gop]
    assert _opt(args, "-force_key_frames") == ["expr:gte(t,n_forced*1)"]
    assert _opt(args, "-hls_playlist_type") == ["event"]
    assert _opt(args, "-hls_flags") == ["independent_segments+temp_file"]
    assert _opt(args, "-b:v") == [f"{lowest.video_kbps}k"]
    assert ("-c:a" in args) is audio
    assert _outputs(args) == [os.path.join(tmp_path, "preview", ".tmp-encoding.m3u8")]
    graph = _opt(args, "-filter_complex")[0]
    assert f"scale={lowest.width}:{lowest.height}" in graph


@pytest.mark.parametrize(("period", "expected"), [(None, []), (0.1, ["0.1"]), (0.25, ["0.25"])])
def test_progress_period(tmp_path, period: float | None, expected: list[str]) -> None:
    stream = build_hls("/src/in.mp4", PROBE, plan_ladder(1080, 1920)[:1], tmp_path)
    argv = ffmpeg_argv(stream, progress_period_s=period)
    assert _opt(argv, "-stats_period") == expected
    if expected:
        assert argv.index("-stats_period") < argv.index("-i"), "a global option"

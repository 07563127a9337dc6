"""Live transcode argv: low-latency HLS options, resume, tee outputs (no ffmpeg run)."""

from __future__ import annotations

import pytest

from media.live.commands import (
    DEFAULT_RUNGS,
    LiveOptions,
    LiveRung,
    build_concat_argv,
    build_live_argv,
    scale_expr,
)


def _value(argv, flag, nth=0):
    hits = [argv[i + 1] for i, a in enumerate(argv) if a == flag]
    return hits[nth]


@pytest.fixture
def argv(tmp_path):
    return build_live_argv(tmp_path, container="flv", part=1, options=LiveOptions())


def test_reads_the_ingest_from_stdin_with_its_demuxer(tmp_path):
    for container, demuxer in (("flv", "flv"), ("webm", "matroska"), ("mp4", "mp4")):
        argv = build_live_argv(tmp_path, container=container, part=1, options=LiveOptions())
        i = argv.index("-i")
        assert argv[i + 1] == "pipe:0"
        assert argv[argv.index("-f") + 1] == demuxer


def test_unknown_container_and_part_zero_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        build_live_argv(tmp_path, container="avi", part=1, options=LiveOptions())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_live_argv(tmp_path, container="flv", part=0, options=LiveOptions())


def test_one_decode_split_into_every_rung(argv):
    graph = _value(argv, "-filter_complex")
    assert graph.startswith("[0:v:0]fps=30,split=2[s0][s1]")
    assert "[v0]" in graph and "[v1]" in graph


def test_gop_is_one_segment_without_scene_cuts_and_zero_latency(argv):
    for nth in range(2):
        assert _value(argv, "-g", nth) == "30"
        assert _value(argv, "-keyint_min", nth) == "30"
        assert _value(argv, "-sc_threshold", nth) == "0"
        assert _value(argv, "-tune", nth) == "zerolatency"
        assert _value(argv, "-force_key_frames", nth) == "expr:gte(t,n_forced*1)"


def test_half_second_segments_halve_the_gop(tmp_path):
    argv = build_live_argv(
        tmp_path, container="flv", part=1, options=LiveOptions(segment_s=0.5, fps=30)
    )
    assert _value(argv, "-g") == "15"


def test_top_rung_tees_hls_recording_and_low_latency_flv(argv, tmp_path):
    assert argv[argv.index("tee") - 3 : argv.index("tee")] == ["-flush_packets", "1", "-f"]
    tee = argv[argv.index("tee") + 1]
    hls, recording, flv = tee.split("|")
    assert hls.startswith("[f=hls:hls_time=1:hls_list_size=6:")
    assert "delete_segments+independent_segments+program_date_time+temp_file" in hls
    assert "omit_endlist" in hls and "append_list" not in hls
    assert hls.endswith(f"{tmp_path}/720p/index.m3u8")
    assert recording == f"[f=mpegts]{tmp_path}/recording/part_0001.ts"
    assert flv.startswith("[f=flv:") and flv.endswith("pipe\\:1")


def test_other_rungs_get_their_own_live_playlist(argv, tmp_path):
    assert argv[-1] == f"{tmp_path}/360p/index.m3u8"
    assert _value(argv, "-hls_segment_filename") == f"{tmp_path}/360p/seg_%05d.ts"
    assert _value(argv, "-b:v", 1) == "800k"


def test_resume_appends_to_the_same_playlists(tmp_path):
    argv = build_live_argv(tmp_path, container="flv", part=2, options=LiveOptions())
    tee = argv[argv.index("tee") + 1]
    assert "append_list" in tee and "part_0002.ts" in tee
    assert "append_list" in _value(argv, "-hls_flags")


def test_without_low_latency_there_is_no_stdout_output(tmp_path):
    argv = build_live_argv(
        tmp_path, container="webm", part=1, options=LiveOptions(), low_latency=False
    )
    assert "pipe\\:1" not in argv[argv.index("tee") + 1]


def test_scale_never_upscales_and_keeps_even_sizes():
    expr = scale_expr(720)
    assert "min(1\\,720/min(iw\\,ih))" in expr
    assert expr.startswith("w=trunc(") and "/2)*2" in expr


@pytest.mark.parametrize(
    "kwargs",
    [
        {"segment_s": 0.1},
        {"segment_s": 30},
        {"fps": 0},
        {"list_size": 2},
        {"rungs": ()},
        {"rungs": (DEFAULT_RUNGS[0], DEFAULT_RUNGS[0])},
        {"rungs": (LiveRung("../x", 360, 1, 1),)},
    ],
)
def test_invalid_options_are_rejected(kwargs):
    with pytest.raises(ValueError):
        LiveOptions(**kwargs)


def test_concat_lists_parts_in_order(tmp_path):
    parts = [str(tmp_path / "part_0001.ts"), str(tmp_path / "it's part_0002.ts")]
    listing = tmp_path / "parts.txt"
    argv = build_concat_argv(parts, str(listing), str(tmp_path / "rec.mp4"))
    assert argv[argv.index("-f") + 1] == "concat" and argv[-1] == str(tmp_path / "rec.mp4")
    assert "+faststart" in argv and "aac_adtstoasc" in argv
    lines = listing.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"file '{parts[0]}'"
    assert lines[1].endswith("it'\\''s part_0002.ts'")
    with pytest.raises(ValueError):
        build_concat_argv([], str(listing), "x.mp4")

"""Which sources play as they are (copied into HLS) before the ladder: a table of probe facts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from media.instant import InstantPlan, build_instant_hls, plan_instant
from media.probe import ProbeResult

PHONE = ProbeResult(
    duration_s=60.0,
    width=1080,
    height=1920,
    fps=30.0,
    video_codec="h264",
    has_audio=True,
    rotation=0,
    video_index=0,
    audio_index=1,
    pix_fmt="yuv420p",
    video_profile="High",
    video_level=40,
    audio_codec="aac",
    audio_profile="LC",
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, InstantPlan(audio="copy")),
        ({"video_profile": "Constrained Baseline"}, InstantPlan(audio="copy")),
        ({"pix_fmt": "yuvj420p", "video_level": 42}, InstantPlan(audio="copy")),
        ({"has_audio": False, "audio_index": None, "audio_codec": ""}, InstantPlan(audio="none")),
        ({"audio_codec": "mp3", "audio_profile": ""}, InstantPlan(audio="encode")),
        ({"audio_codec": "aac", "audio_profile": "HE-AAC"}, InstantPlan(audio="encode")),
        ({"audio_codec": "opus", "audio_profile": ""}, InstantPlan(audio="encode")),
        ({"video_codec": "hevc"}, None),
        ({"video_codec": "vp9", "video_profile": "Profile 0"}, None),
        ({"rotation": 90}, None),  # TS segments lose the rotation: sideways
        ({"video_profile": "High 10", "pix_fmt": "yuv420p10le"}, None),
        ({"video_profile": "High 4:4:4 Predictive", "pix_fmt": "yuv444p"}, None),
        ({"pix_fmt": "yuv422p"}, None),
        ({"video_level": 51, "width": 2160, "height": 3840}, None),  # 4K waits for the ladder
        ({"video_level": 0}, None),  # unknown level: not trusted
        ({"fps": 120.0}, None),  # the ladder caps the frame rate
        ({"fps": 0.0}, None),
    ],
)
def test_plan_instant(changes: dict[str, object], expected: InstantPlan | None) -> None:
    assert plan_instant(replace(PHONE, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plan", "audio_codec"),
    [(InstantPlan(audio="copy"), "copy"), (InstantPlan(audio="encode"), "aac")],
)
def test_instant_command_copies_video(plan: InstantPlan, audio_codec: str) -> None:
    args = build_instant_hls("/in/src.mp4", PHONE, plan, "/out", segment_s=4).get_args()
    text = " ".join(args)
    assert args[args.index("-c:v") + 1] == "copy" and "libx264" not in text
    assert args[args.index("-c:a") + 1] == audio_codec
    assert "/out/instant/index.m3u8" in args
    assert "-map_metadata -1" in text  # no GPS from the phone


def test_instant_command_without_audio_maps_video_only() -> None:
    args = build_instant_hls("/in/src.mp4", PHONE, InstantPlan(audio="none"), "/out").get_args()
    assert args.count("-map") == 1 and "-c:a" not in args

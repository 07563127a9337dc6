"""Table tests of the pure ladder rules."""

from __future__ import annotations

import pytest

from media.ladder import (
    force_keyframes_expr,
    fps_fraction,
    gop_frames,
    output_fps,
    plan_ladder,
    scaled_size,
)


def _sizes(width: int, height: int) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in plan_ladder(width, height)]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        # landscape
        (1920, 1080, [("240p", 426, 240), ("480p", 854, 480), ("720p", 1280, 720)]),
        (3840, 2160, [("240p", 426, 240), ("480p", 854, 480), ("720p", 1280, 720)]),
        (1280, 720, [("240p", 426, 240), ("480p", 854, 480), ("720p", 1280, 720)]),
        (854, 480, [("240p", 428, 240), ("480p", 854, 480)]),
        (640, 360, [("240p", 426, 240), ("360p", 640, 360)]),
        (426, 240, [("240p", 426, 240)]),
        # portrait: scaled by the short side
        (1080, 1920, [("240p", 240, 426), ("480p", 480, 854), ("720p", 720, 1280)]),
        (720, 1280, [("240p", 240, 426), ("480p", 480, 854), ("720p", 720, 1280)]),
        (360, 640, [("240p", 240, 426), ("360p", 360, 640)]),
        # square and 4:5
        (1080, 1080, [("240p", 240, 240), ("480p", 480, 480), ("720p", 720, 720)]),
        (1080, 1350, [("240p", 240, 300), ("480p", 480, 600), ("720p", 720, 900)]),
        # tiny: one rung at the source's own (even) size
        (200, 112, [("112p", 200, 112)]),
        (160, 120, [("120p", 160, 120)]),
        (179, 101, [("100p", 178, 100)]),
        (2, 2, [("2p", 2, 2)]),
        # odd sizes: even, aspect kept, never above the source
        (1921, 1081, [("240p", 426, 240), ("480p", 852, 480), ("720p", 1280, 720)]),
        (641, 361, [("240p", 426, 240), ("360p", 640, 360)]),
        # between rungs: a native rung only when clearly above the standard one
        (1024, 576, [("240p", 426, 240), ("480p", 854, 480)]),
        (1066, 600, [("240p", 426, 240), ("480p", 852, 480), ("600p", 1066, 600)]),
        (250, 444, [("240p", 240, 426)]),
    ],
)
def test_plan_ladder_sizes(width: int, height: int, expected: list[tuple[str, int, int]]) -> None:
    assert _sizes(width, height) == expected


@pytest.mark.parametrize(
    ("width", "height"),
    [(1920, 1080), (1080, 1920), (641, 361), (179, 101), (1066, 600), (100, 3000), (3, 5)],
)
def test_plan_ladder_invariants(width: int, height: int) -> None:
    rungs = plan_ladder(width, height)
    assert rungs, "always at least one rung"
    assert [r.short_side for r in rungs] == sorted({r.short_side for r in rungs})
    kbps = [r.video_kbps for r in rungs]
    assert kbps == sorted(kbps)
    for r in rungs:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= width and r.height <= height, "never upscaled"
        assert (r.width >= r.height) == (width >= height) or width == height
        assert r.maxrate_kbps > r.video_kbps and r.bufsize_kbps >= r.maxrate_kbps
        assert r.audio_kbps in (64, 96, 128)
        assert abs(r.width / r.height - width / height) < 0.05 * width / height + 2 / r.height


def test_standard_bitrates() -> None:
    rungs = plan_ladder(1920, 1080)
    assert [(r.video_kbps, r.maxrate_kbps, r.bufsize_kbps, r.audio_kbps) for r in rungs] == [
        (400, 440, 800, 64),
        (1000, 1100, 2000, 96),
        (2500, 2750, 5000, 128),
    ]


def test_native_rung_bitrate_is_interpolated() -> None:
    native = plan_ladder(640, 360)[-1]
    assert 400 < native.video_kbps < 1000


@pytest.mark.parametrize("size", [(0, 100), (100, 0), (-2, 10)])
def test_plan_ladder_rejects_bad_sizes(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        plan_ladder(*size)


def test_scaled_size_never_upscales() -> None:
    assert scaled_size(640, 360, 720) == (640, 360)
    assert scaled_size(360, 640, 240) == (240, 426)


@pytest.mark.parametrize(
    ("fps", "segment_s", "gop"),
    [(30, 4, 120), (29.97, 4, 120), (25, 4, 100), (60, 2, 120), (24, 1, 24), (0.5, 1, 1)],
)
def test_gop_frames(fps: float, segment_s: float, gop: int) -> None:
    assert gop_frames(fps, segment_s) == gop


def test_fps_helpers() -> None:
    assert output_fps(30) is None
    assert output_fps(59.94) is None
    assert output_fps(120) == 30
    assert output_fps(0) == 30
    assert str(fps_fraction(30000 / 1001)) == "30000/1001"
    assert force_keyframes_expr(4) == "expr:gte(t,n_forced*4)"
    assert force_keyframes_expr(1.5) == "expr:gte(t,n_forced*1.5)"

"""Sample clip generator and bad-file helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from media.probe import probe_video
from media.samples import generate_clip, safe_label, truncate_file


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Demo clip 1", "Demo clip 1"),
        ("a:b;c'd\\e[f]g=h%{pts}", "abcdefghpts"),
        ("shop_v2-final.mp4", "shop_v2-final.mp4"),
        ("caf\u00e9 \U0001f600", "caf"),
        ("x" * 100, "x" * 64),
    ],
)
def test_safe_label(label: str, expected: str) -> None:
    assert safe_label(label) == expected


def test_truncate_file(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 40)
    out = truncate_file(src, tmp_path / "cut.bin", 0.25)
    assert Path(out).read_bytes() == src.read_bytes()[:2560]
    with pytest.raises(ValueError):
        truncate_file(src, tmp_path / "bad.bin", 1.5)


@pytest.mark.ffmpeg
def test_generate_clip_with_hostile_label(tmp_path: Path) -> None:
    path = generate_clip(
        tmp_path / "c.mp4",
        duration_s=1,
        width=320,
        height=240,
        fps=24,
        audio=False,
        label="it's: [a] ; b=c %{n}",
    )
    info = probe_video(path)
    assert (info.width, info.height, info.has_audio) == (320, 240, False)
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert info.fps == pytest.approx(24.0)

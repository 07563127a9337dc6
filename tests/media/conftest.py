"""Fixtures for the media tests: synthetic clips, transcode runs and an S3 server over HTTP."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from media.hls import parse_master_playlist, parse_media_playlist
from media.probe import ProbeResult, probe_video
from media.samples import generate_clip
from media.transcode import TranscodeResult, transcode_video

SEGMENT_S = 1.0


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def landscape_clip(clips_dir: Path) -> str:
    return generate_clip(clips_dir / "landscape.mp4", duration_s=3, width=640, height=360)


@pytest.fixture(scope="session")
def portrait_clip(clips_dir: Path) -> str:
    return generate_clip(
        clips_dir / "portrait.mp4", duration_s=3, width=360, height=640, label="Portrait"
    )


@pytest.fixture(scope="session")
def tiny_silent_clip(clips_dir: Path) -> str:
    return generate_clip(
        clips_dir / "tiny.mp4", duration_s=2, width=200, height=112, fps=25, audio=False
    )


@dataclass
class TranscodeRun:
    """A finished transcode plus what the callbacks saw while it ran."""

    src: str
    out_dir: Path
    probe: ProbeResult
    result: TranscodeResult
    progress: list[float] = field(default_factory=list)
    first_playable: dict[str, Any] = field(default_factory=dict)
    finished_at: float = 0.0

    @property
    def copied(self) -> bool:
        """Whether the source played as it is (instant rendition) before the ladder was made."""
        return "instant" in self.result.timings


def _run(src: str, out_dir: Path, *, instant: bool = True) -> TranscodeRun:
    probe = probe_video(src)
    progress: list[float] = []
    seen: dict[str, Any] = {}

    def on_first_playable(folder: str, rungs: Any) -> None:
        # Snapshot the output folder the moment the first rung is announced.
        seen["at"] = time.monotonic()
        seen["progress"] = progress[-1] if progress else 0.0
        seen["rungs"] = list(rungs)
        seen["master"] = parse_master_playlist(os.path.join(folder, "master.m3u8"))
        seen["playlist"] = parse_media_playlist(os.path.join(folder, seen["master"][0]["uri"]))
        seen["files"] = sorted(
            os.path.relpath(os.path.join(r, n), folder) for r, _, ns in os.walk(folder) for n in ns
        )

    result = transcode_video(
        src,
        out_dir,
        probe,
        segment_s=SEGMENT_S,
        preset="ultrafast",
        on_progress=progress.append,
        on_first_playable=on_first_playable,
        instant=instant,
    )
    return TranscodeRun(src, out_dir, probe, result, progress, seen, time.monotonic())


@pytest.fixture(scope="session")
def landscape_run(landscape_clip: str, tmp_path_factory: pytest.TempPathFactory) -> TranscodeRun:
    return _run(landscape_clip, tmp_path_factory.mktemp("out-landscape"))


@pytest.fixture(scope="session")
def portrait_run(portrait_clip: str, tmp_path_factory: pytest.TempPathFactory) -> TranscodeRun:
    return _run(portrait_clip, tmp_path_factory.mktemp("out-portrait"))


@pytest.fixture(scope="session")
def tiny_run(tiny_silent_clip: str, tmp_path_factory: pytest.TempPathFactory) -> TranscodeRun:
    # Encoded before it plays, as a source browsers cannot decode would be.
    return _run(tiny_silent_clip, tmp_path_factory.mktemp("out-tiny"), instant=False)


@pytest.fixture(params=["landscape", "portrait", "tiny"])
def any_run(request: pytest.FixtureRequest) -> TranscodeRun:
    run: TranscodeRun = request.getfixturevalue(f"{request.param}_run")
    return run

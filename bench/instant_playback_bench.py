"""Upload complete to first playable, through the whole app, next to a bare remux in the same run.

Issue 11 (instant playback): a 60 s 1080p H.264 clip took 8.6 s to become playable (its lowest rung
encoded first) where a remux takes ~0.5 s. Target: <= 1.5 s for H.264 sources, others within 5 s.
Each source goes through the API upload, the job worker, storage and the database, with the
instant rendition on (today) and off (an H.264 source then plays first as the preview, as HEVC
does), next to the bare `ffmpeg -c copy` HLS remux of the same file. Every round is printed.
Run: .venv/bin/python bench/instant_playback_bench.py [rounds]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline_bench import measure_app
from bench.transcode_bench import DURATION_S, generate_bench_clip

HEVC_PATH = Path(tempfile.gettempdir()) / "liveshop-bench-1080p30-60s-hevc.mp4"
H264_TARGET_S = 1.5
OTHER_TARGET_S = 5.0


def hevc_clip(h264: str) -> str:
    """The bench clip re-encoded to HEVC (what an iPhone uploads), cached beside it."""
    if not HEVC_PATH.exists():
        tmp = HEVC_PATH.with_suffix(".part.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", h264, "-c:v", "libx265", "-preset", "ultrafast",
             "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "copy", str(tmp)],
            check=True,
        )  # fmt: skip
        os.replace(tmp, HEVC_PATH)
    return str(HEVC_PATH)


def bare_remux(src: str, out: Path) -> float:
    """The floor: ffmpeg copying the same file into HLS segments, nothing else."""
    out.mkdir(parents=True)
    started = time.monotonic()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", src, "-map", "0", "-c", "copy", "-f", "hls",
         "-hls_time", "4", "-hls_playlist_type", "vod", str(out / "index.m3u8")],
        check=True,
    )  # fmt: skip
    return time.monotonic() - started


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    h264 = generate_bench_clip()
    sources = {"h264": h264, "hevc": hevc_clip(h264)}
    print(f"sources: {DURATION_S:.0f} s 1080p30, H.264 {h264}, HEVC {sources['hevc']}")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="instant-bench-"))
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, value), value)

    try:
        for index in range(rounds):
            for kind, src in sources.items():
                keep(f"{kind}_remux", bare_remux(src, work / f"remux-{kind}-{index}"))
                for instant in (True, False):
                    if kind == "hevc" and not instant:
                        continue  # an HEVC source is never copied: the same path either way
                    folder = work / f"app-{kind}-{instant}-{index}"
                    marks = measure_app(Path(src), folder, TRANSCODE_INSTANT=instant)
                    if not marks.get("state_ok"):
                        raise SystemExit(f"the app did not finish processing the {kind} source")
                    label = "instant" if instant else "ladder_first"
                    print(
                        f"round {index + 1}: {kind} {label} playable "
                        f"{marks['first_playable']:.2f} s, ready {marks['ready']:.2f} s "
                        f"(load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
                    keep(f"{kind}_{label}", marks["first_playable"])
                    keep(f"{kind}_{label}_ready", marks["ready"])
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()}")
    print(f"\nbest of {rounds} rounds; seconds from the upload's /complete to playable\n")
    print(f"{'source, path':<44}{'playable':>10}{'ready':>9}{'target':>9}")
    rows = [
        ("H.264, instant rendition (now)", "h264_instant", H264_TARGET_S),
        ("H.264, copy off: preview first", "h264_ladder_first", None),
        ("H.264, bare ffmpeg remux (reference)", "h264_remux", None),
        ("HEVC, preview first (now)", "hevc_instant", OTHER_TARGET_S),
        ("HEVC, bare ffmpeg remux (reference)", "hevc_remux", None),
    ]
    for label, key, target in rows:
        ready = best.get(f"{key}_ready")
        print(
            f"{label:<44}{best[key]:>10.2f}{(f'{ready:.2f}' if ready else '-'):>9}"
            f"{(f'<= {target:g}' if target else ''):>9}"
        )
    met = best["h264_instant"] <= H264_TARGET_S and best["hevc_instant"] <= OTHER_TARGET_S
    print(
        f"\nh264_playable_s={best['h264_instant']:.2f} "
        f"h264_before_s={best['h264_ladder_first']:.2f} "
        f"h264_remux_s={best['h264_remux']:.2f} hevc_playable_s={best['hevc_instant']:.2f} "
        f"h264_ready_s={best['h264_instant_ready']:.2f} "
        f"h264_ready_before_s={best['h264_ladder_first_ready']:.2f} targets_met={int(met)}"
    )


if __name__ == "__main__":
    main()

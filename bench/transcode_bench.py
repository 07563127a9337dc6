"""Benchmark media.transcode_video against the bare ffmpeg commands producing the same outputs.

Run: .venv/bin/python bench/transcode_bench.py [--keep] [--clip PATH]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from media.ffrun import NICE_LEVEL
from media.ladder import Rung, gop_frames, plan_ladder
from media.probe import probe_video
from media.samples import generate_clip
from media.transcode import default_sprite_tiles, transcode_video

CLIP_PATH = Path(tempfile.gettempdir()) / "liveshop-bench-1080p30-60s.mp4"
DURATION_S = 60.0
SEGMENT_S = 4
PRESET = "veryfast"


def generate_bench_clip(path: str | os.PathLike[str] = CLIP_PATH) -> str:
    """60 s 1920x1080 30 fps testsrc2 + sine clip, cached (generated once, ~phone bitrate)."""
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        return str(path)
    tmp = path.with_suffix(".part.mp4")
    generate_clip(
        tmp, duration_s=DURATION_S, width=1920, height=1080, fps=30, label="bench", preset=PRESET
    )
    os.replace(tmp, path)
    return str(path)


def _rung_args(rung: Rung, out_dir: Path, gop: int, audio_map: bool) -> list[str]:
    folder = out_dir / rung.name
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        "-c:v", "libx264", "-preset", PRESET, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-b:v", f"{rung.video_kbps}k", "-maxrate", f"{rung.maxrate_kbps}k",
        "-bufsize", f"{rung.bufsize_kbps}k",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})",
    ]  # fmt: skip
    if audio_map:
        args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{rung.audio_kbps}k"]
        args += ["-ar", "48000", "-ac", "2"]
    args += [
        "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments",
        "-hls_segment_filename", str(folder / "seg_%05d.ts"), str(folder / "index.m3u8"),
    ]  # fmt: skip
    return args


def _ladder_cmd(src: str, rungs: list[Rung], out_dir: Path, gop: int) -> list[str]:
    """Hand-written ffmpeg argv: one decode, split, one HLS output per rung."""
    n = len(rungs)
    if n == 1:
        graph = f"[0:v:0]scale={rungs[0].width}:{rungs[0].height},setsar=1[v0]"
    else:
        labels = "".join(f"[s{i}]" for i in range(n))
        parts = [f"[0:v:0]split={n}{labels}"]
        parts += [f"[s{i}]scale={r.width}:{r.height},setsar=1[v{i}]" for i, r in enumerate(rungs)]
        graph = ";".join(parts)
    argv = ["ffmpeg", "-hide_banner", "-v", "error", "-y", "-i", src, "-filter_complex", graph]
    for i, rung in enumerate(rungs):
        argv += ["-map", f"[v{i}]", *_rung_args(rung, out_dir, gop, audio_map=True)]
    return argv


def bare_commands(src: str, out_dir: Path) -> dict[str, list[str]]:
    """The exact argv of every step, written out by hand (not via media.commands)."""
    rungs = plan_ladder(1920, 1080)
    gop = gop_frames(30, SEGMENT_S)
    top, low = rungs[-1], rungs[0]
    tiles = default_sprite_tiles(DURATION_S)
    interval = DURATION_S / tiles
    tile_h = round(160 * low.height / low.width / 2) * 2
    single = out_dir / "single"
    return {
        "stage1": _ladder_cmd(src, rungs[:1], out_dir, gop),
        "poster": [
            "ffmpeg", "-hide_banner", "-v", "error", "-y", "-ss", "1.000", "-i", src,
            "-vf", f"scale={top.width}:{top.height}", "-frames:v", "1", "-q:v", "3",
            "-update", "1", str(out_dir / "poster.jpg"),
        ],
        "sprite": [
            "ffmpeg", "-hide_banner", "-v", "error", "-y",
            "-i", str(out_dir / low.name / "index.m3u8"),
            "-vf", f"select='gte(t,(selected_n+0.5)*{interval:.6f})',"
            f"scale=160:{tile_h},tile={tiles}x1",
            "-frames:v", "1", "-q:v", "4", "-update", "1", str(out_dir / "thumbs.jpg"),
        ],
        "stage2": _ladder_cmd(src, rungs[1:], out_dir, gop),
        "fallback": [
            "ffmpeg", "-hide_banner", "-v", "error", "-y",
            "-i", str(out_dir / top.name / "index.m3u8"),
            "-map", "0", "-c", "copy", "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart",
            str(out_dir / "fallback.mp4"),
        ],
        "single_ladder": _ladder_cmd(src, rungs, single, gop),
    }  # fmt: skip


def measure_bare(
    src: str,
    out_dir: str | os.PathLike[str],
    *,
    nice: int = 0,
    verbose: bool = True,
    single_ladder: bool = True,
) -> dict[str, float]:
    """Run the bare commands in order, print each argv, return seconds per step."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    prefix = ["nice", "-n", str(nice)] if nice else []
    for name, argv in bare_commands(src, out).items():
        if name == "single_ladder" and not single_ladder:
            continue
        if verbose:
            print(f"  [{name}] {shlex.join(prefix + argv)}")
        started = time.monotonic()
        subprocess.run(prefix + argv, check=True, stdin=subprocess.DEVNULL)
        timings[name] = time.monotonic() - started
    timings["total"] = sum(v for k, v in timings.items() if k != "single_ladder")
    return timings


def measure_ours(src: str, out_dir: str | os.PathLike[str]) -> dict[str, float]:
    """Probe + transcode_video, returning its per-step timings plus wall-clock marks."""
    started = time.monotonic()
    probe = probe_video(src)
    probe_s = time.monotonic() - started
    marks: dict[str, float] = {}
    began = time.monotonic()
    result = transcode_video(
        src,
        out_dir,
        probe,
        segment_s=SEGMENT_S,
        preset=PRESET,
        instant=False,  # like for like with the bare two-stage commands (instant_playback_bench)
        on_first_playable=lambda _d, _r: marks.setdefault("wall_first", time.monotonic() - began),
    )
    wall_total = time.monotonic() - began
    return {**result.timings, "probe": probe_s, **marks, "wall_total": wall_total}


def _print_table(ours: dict[str, float], bare: dict[str, float]) -> None:
    print(f"\n{'stage':<16}{'ours (s)':>10}{'bare (s)':>10}{'ratio':>8}{'x realtime':>12}")
    for stage in ("stage1", "poster", "sprite", "stage2", "fallback", "total"):
        o, b = ours.get(stage, 0.0), bare.get(stage, 0.0)
        ratio = f"{o / b:.2f}" if b else "-"
        speed = f"{DURATION_S / o:.1f}x" if o and stage not in ("poster",) else "-"
        print(f"{stage:<16}{o:>10.2f}{b:>10.2f}{ratio:>8}{speed:>12}")
    print(f"{'probe (ours)':<16}{ours['probe']:>10.2f}")
    print(
        f"\nours: first rendition playable after {ours['wall_first']:.2f} s "
        f"({DURATION_S / ours['wall_first']:.1f}x realtime), "
        f"all done after {ours['wall_total']:.2f} s ({DURATION_S / ours['wall_total']:.1f}x)"
    )
    two = bare["stage1"] + bare["stage2"]
    one = bare["single_ladder"]
    print(
        f"bare two-stage encode (stage1 + stage2) {two:.2f} s vs single-process ladder "
        f"{one:.2f} s: {100 * (two - one) / one:+.0f}% "
        f"(first rendition after {bare['stage1']:.2f} s instead of {one:.2f} s)"
    )


def _fmt(timings: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in timings.items())


def main() -> None:
    """Generate (or reuse) the clip, run bare then ours, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", default=str(CLIP_PATH), help="cached 60 s 1080p clip")
    parser.add_argument("--keep", action="store_true", help="keep output folders")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="alternate bare/ours N times and keep each step's best time (busy shared boxes)",
    )
    parser.add_argument(
        "--nice-bare",
        action="store_true",
        help=f"run the bare commands under `nice -n {NICE_LEVEL}` too (like for like)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    src = generate_bench_clip(args.clip)
    print(f"clip: {src} ({os.path.getsize(src) / 1e6:.1f} MB, {time.monotonic() - started:.1f} s)")
    work = Path(tempfile.mkdtemp(prefix="transcode-bench-"))
    try:
        print("bare ffmpeg commands:")
        bare: dict[str, float] = {}
        ours: dict[str, float] = {}
        for rep in range(max(1, args.repeat)):
            print(f"run {rep + 1}: load average {os.getloadavg()}")
            bare_run = measure_bare(
                src,
                work / f"bare{rep}",
                nice=NICE_LEVEL if args.nice_bare else 0,
                verbose=rep == 0,
            )
            ours_run = measure_ours(src, work / f"ours{rep}")
            print(f"  bare {_fmt(bare_run)}\n  ours {_fmt(ours_run)}")
            # The minimum is the least disturbed by other load on the machine.
            bare = {k: min(v, bare.get(k, v)) for k, v in bare_run.items()}
            ours = {k: min(v, ours.get(k, v)) for k, v in ours_run.items()}
            if not args.keep:
                shutil.rmtree(work / f"bare{rep}")
                shutil.rmtree(work / f"ours{rep}")
        print(f"load average after: {os.getloadavg()}; ours ran at nice {NICE_LEVEL}")
        _print_table(ours, bare)
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

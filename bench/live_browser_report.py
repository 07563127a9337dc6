"""Figures of the browser latency bench: per page (what the probe recorded), the references from
the same source, the checks on the decoder and on real time, and the verdict on the targets."""

from __future__ import annotations

import bisect
import itertools
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.live_latency_bench import FPS, SEGMENT_S, TAIL_S, WARMUP_S, HlsWatch, pct

MIN_DECODED = 0.8  # fewer decoded frames than this: the figures are not to be trusted
LL_TARGET_MS = 1000.0
HLS_TARGET_MS = 3500.0
HLS_VS_REFERENCE = 1.2
REALTIME_FPS = 0.95  # of the source's rate: fewer frames per second means a process fell behind
REALTIME_GROWTH_MS = 250.0  # socket latency growing more than this over a run: say so


@dataclass
class Frame:
    shown: float  # performance.timeOrigin + expectedDisplayTime, ms
    callback: float  # Date.now() when the callback ran, ms
    stamp: float | None  # wall-clock ms drawn by the source, None when it did not decode
    buffer_ahead: float  # s of media buffered past this frame (-1: outside the buffer)
    size: str
    rate: float


@dataclass
class PageResult:
    name: str
    frames: list[Frame]
    events: list[tuple[float, str, float]]
    dropped: int
    clock_gap: float
    hls: dict[str, Any] | None = None  # hls.js's own account, when the page played through it
    window: list[Frame] = field(default_factory=list)  # decoded, after warm-up, before the tail
    after_warmup: list[Frame] = field(default_factory=list)

    @classmethod
    def from_probe(cls, name: str, raw: dict[str, Any]) -> PageResult:
        frames = [
            Frame(r[0], r[1], r[2], r[4], f"{r[5]}x{r[6]}", r[8]) for r in raw.get("frames", [])
        ]
        events = [(e[0], e[1], e[2]) for e in raw.get("events", [])]
        return cls(
            name,
            frames,
            events,
            int(raw.get("dropped", 0)),
            float(raw.get("clockGap", 0)),
            raw.get("hls"),
        )

    def cut(self, t_end: float) -> None:
        """Leave out the first WARMUP_S after this page started playing, and the stream's tail."""
        if not self.frames:
            return
        start = self.frames[0].shown + WARMUP_S * 1000
        self.after_warmup = [f for f in self.frames if f.shown >= start]
        self.window = [f for f in self.after_warmup if f.stamp is not None and f.stamp <= t_end]

    @property
    def decoded_ratio(self) -> float:
        if not self.after_warmup:
            return 0.0
        return sum(f.stamp is not None for f in self.after_warmup) / len(self.after_warmup)

    @property
    def fps(self) -> float:
        if len(self.window) < 2:
            return 0.0
        return (len(self.window) - 1) / ((self.window[-1].shown - self.window[0].shown) / 1000)

    def latencies(self) -> list[float]:
        return [f.shown - f.stamp for f in self.window if f.stamp is not None]

    def stalled_ms(self) -> float:
        """From each 'waiting' in the window to the next 'playing': what a viewer saw frozen."""
        total = 0.0
        for at, _, _ in self.events_in_window("waiting"):
            resumed = [e[0] for e in self.events if e[1] == "playing" and e[0] >= at]
            total += (min(resumed) if resumed else self.window[-1].callback) - at
        return total

    def events_in_window(self, kind: str) -> list[tuple[float, str, float]]:
        """Events while the measured frames played (not the start, not the end of the stream)."""
        if not self.window:
            return []
        start, end = self.window[0].callback, self.window[-1].callback
        return [e for e in self.events if e[1] == kind and start <= e[0] <= end]


def s(ms: float) -> str:
    return f"{ms / 1000:.2f}s"


def thirds(values: list[float]) -> tuple[float, float]:
    """p50 of the first and of the last third: a latency that grows is a pipeline falling behind."""
    third = max(1, len(values) // 3)
    return pct(values[:third], 0.5), pct(values[-third:], 0.5)


def matched(stamps: list[tuple[float, float]], frames: list[Frame]) -> list[float]:
    """shown - (when the same frame was available upstream), matching frames by their stamp."""
    if not stamps:
        return []
    ordered = sorted(stamps)
    keys = [k for k, _ in ordered]
    out = []
    for f in frames:
        assert f.stamp is not None
        i = bisect.bisect_left(keys, f.stamp - 2)
        if i < len(keys) and abs(keys[i] - f.stamp) <= 2:
            out.append(f.shown - ordered[i][1])
    return out


def page_lines(r: PageResult, player: str) -> list[str]:
    lat = r.latencies()
    sizes = ", ".join(f"{k} {v}" for k, v in Counter(f.size for f in r.window).most_common())
    ahead = [f.buffer_ahead * 1000 for f in r.window if f.buffer_ahead >= 0]
    faster = sum(f.rate > 1.001 for f in r.window)
    first, last = thirds(lat)
    cb = [f.callback - f.shown for f in r.window]
    lines: list[str] = []
    if r.hls:
        h = r.hls
        start = r.frames[0].callback if r.frames else 0.0
        at = lambda t: f"{(t - start) / 1000:+.1f}s"  # noqa: E731  (from the first frame shown)
        switches = ", ".join(f"{h['levels'][lvl]}p at {at(t)}" for t, lvl in h["switches"])
        stalls = ", ".join(at(t) for t in h["stalls"]) or "none"
        lines.append(
            f"  {r.name}: hls.js levels {h['levels']}; switched to {switches or '-'}; buffer"
            f" stalls {len(h['stalls'])} ({stalls}); target latency at the end"
            f" {h['targetLatency']:.2f}s, its latency {h['latency'] or 0:.2f}s"
            + (
                "; errors " + ", ".join(f"{d} at {at(t)}" for t, d, _ in h["errors"])
                if h["errors"]
                else ""
            )
        )
    return [
        *lines,
        f"  {r.name}: {player}; rendition {sizes or '-'};"
        f" shown {r.fps:.1f} fps; browser dropped {r.dropped};"
        f" buffered past the shown frame p50"
        f" {s(pct(ahead, 0.5))}; stalls (waiting) {len(r.events_in_window('waiting'))}"
        f" ({r.stalled_ms():.0f} ms in all),"
        f" seeks {len(r.events_in_window('seeking'))}, frames played faster than 1x {faster}",
        f"  {r.name}: latency p50 first third {s(first)}, last third"
        f" {s(last)}; callback Date.now() - expectedDisplayTime p50 {pct(cb, 0.5):.0f} ms;"
        f" Date.now() - (timeOrigin + performance.now()) {r.clock_gap:.1f} ms",
    ]


def report(
    *,
    duration_s: float,
    browser_version: str,
    results: dict[str, PageResult],
    ll_frames: list[tuple[float, float]],
    watches: list[HlsWatch],
    cpu: dict[str, float],
    errors: list[str],
    notes: dict[str, Any],
) -> int:
    """Print everything; returns the exit status (1 when the decoder cannot be trusted)."""
    source = [st for st, _ in ll_frames]
    if not source:
        source = [f.stamp for r in results.values() for f in r.frames if f.stamp is not None]
    t_end = max(source) - TAIL_S * 1000 if source else 0.0
    t_start = min(source) + WARMUP_S * 1000 if source else 0.0
    for r in results.values():
        r.cut(t_end)

    print(
        f"browser live latency: Chromium {browser_version} headless, room page on a phone viewport"
        f" (390x844); source 1280x720@{FPS}, {SEGMENT_S:g} s segments, {duration_s:.0f} s stream;"
        f" {len(results)} pages at once from one source; frames from {WARMUP_S:g} s after each"
        f" page starts playing to {TAIL_S:g} s before the end; latency = shown - stamp"
        f" (shown = timeOrigin + expectedDisplayTime)"
    )
    print("{:<14}{:>7}{:>8}{:>9}{:>9}{:>24}".format("path", "frames", "failed", "p50", "p95", ""))
    rows: dict[str, float] = {}
    for r in results.values():
        lat = r.latencies()
        failed = sum(f.stamp is None for f in r.after_warmup)
        rows[r.name] = pct(lat, 0.5)
        print(f"{r.name:<14}{len(lat):>7}{failed:>8}{s(pct(lat, 0.5)):>9}{s(pct(lat, 0.95)):>9}")
    ll_window = [(st, a) for st, a in ll_frames if t_start <= st <= t_end]
    ll = [a - st for st, a in ll_window]
    print(
        "references, same source, same run: available = tag received / segment listed;"
        " player = a player 2 segments behind the live edge (live-player.js),"
        " 3-seg = hls.js default"
    )
    header = ("path", "frames", "avail p50", "avail p95", "player p50", "player p95", "3-seg p50")
    print("{:<14}{:>7}{:>11}{:>11}{:>12}{:>12}{:>11}".format(*header))
    row = "{:<14}{:>7}{:>11}{:>11}{:>12}{:>12}{:>11}"
    print(row.format("ours-ll", len(ll), s(pct(ll, 0.5)), s(pct(ll, 0.95)), "(socket)", "", ""))
    listed: dict[str, list[tuple[float, float]]] = {}
    for w in watches:
        frames = w.frames()  # decodes the kept segments: once per playlist
        avail, player, player3 = w.latencies(t_start, t_end, frames)
        rows[w.name] = pct(player, 0.5)
        p50, p95, p3 = pct(player, 0.5), pct(player, 0.95), pct(player3, 0.5)
        figures = (pct(avail, 0.5), pct(avail, 0.95), p50, p95, p3)
        print(row.format(w.name, len(avail), *(s(v) for v in figures)))
        listed[w.name] = frames

    print("where the time goes (per frame, matched by stamp):")
    found: dict[str, int] = {}
    if "browser-ll" in results:
        gap = matched(ll_frames, results["browser-ll"].window)
        found["browser-ll"] = len(gap)
        print(
            f"  browser-ll: FLV tag received by a socket subscriber -> frame shown p50"
            f" {s(pct(gap, 0.5))}, p95 {s(pct(gap, 0.95))} ({len(gap)} frames): the player's part"
        )
    for name, origin in (
        ("browser-hls", "ours-hls"),
        ("browser-hlsjs", "ours-hls"),
        ("browser-nginx", "nginx"),
    ):
        if name in results:
            gap = matched(listed.get(origin, []), results[name].window)
            found[name] = len(gap)
            print(
                f"  {name}: segment listed in the {origin} playlist -> frame shown p50"
                f" {s(pct(gap, 0.5))}, p95 {s(pct(gap, 0.95))} ({len(gap)} frames): the HLS"
                " player's hold and fetch"
            )
    for r in results.values():
        for line in page_lines(r, notes.get(f"player:{r.name}", "?")):
            print(line)

    ok = True
    for r in results.values():
        stamps = [f.stamp for f in r.window if f.stamp is not None]
        steps = [b - a for a, b in itertools.pairwise(stamps)]
        span = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1) if len(stamps) > 1 else 0
        # The page's decoder against ffmpeg's, on the same frames: a stamp read wrong by a bit
        # would find no twin upstream. Steps: the source's own pattern (its mean is 1/fps).
        print(
            f"decoder check: {r.name} {found.get(r.name, 0)} of {len(r.window)} stamps read in the"
            f" page equal (+-2 ms) one ffmpeg read upstream from the same stream; stamps"
            f" increasing: {sum(d > 0 for d in steps)} of {len(steps)} steps, mean step"
            f" {span:.1f} ms (expect {1000 / FPS:.1f}); {r.decoded_ratio:.1%} of the frames"
            " after warm-up decoded"
        )
        ratio = r.decoded_ratio
        if ratio < MIN_DECODED:
            ok = False
            print(
                f"DECODER FAILURE: {r.name} decoded {ratio:.0%} of {len(r.after_warmup)} frames"
                f" (< {MIN_DECODED:.0%}): its figures are not to be trusted"
            )
    steps = [b - a for a, b in itertools.pairwise(source)]
    span = (max(source) - min(source)) / 1000 if source else 0
    source_fps = (len(source) - 1) / span if span else 0.0
    first, last = thirds(ll)
    slow = [f"source {source_fps:.1f} fps"] if source_fps < REALTIME_FPS * FPS else []
    slow += [
        f"{r.name} showed {r.fps:.1f} fps" for r in results.values() if r.fps < REALTIME_FPS * FPS
    ]
    shown = ", ".join(f"{r.name} {r.fps:.1f}" for r in results.values())
    print(
        f"real time: source {source_fps:.1f} fps of stamps (median step"
        f" {statistics.median(steps) if steps else 0:.1f} ms), pages shown fps {shown}; room live"
        f" {notes['went_live_s']:.1f} s after the push started; source exit {notes['source_rc']}: "
        + (f"NOT KEPT ({'; '.join(slow)}): latencies inflated" if slow else "kept")
    )
    # Seen on an idle machine too, the same in every run, with nginx's latency flat and nothing
    # queued before our ffmpeg's stdin: a drift inside our ingest path, not this bench's load.
    print(
        f"drift: ours-ll socket latency p50 first third {s(first)}, last third {s(last)}"
        + (
            f": GROWING {s(last - first)} over the stream (our ingest path falls behind)"
            if last - first > REALTIME_GROWTH_MS
            else ""
        )
    )
    if cpu:
        print(
            "CPU seconds per second while the pages play (1.0 = one core): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            + f" = {sum(cpu.values()):.2f} of {os.cpu_count()} cores  [ours = our 720p+360p"
            " ffmpeg; chromium = every Chromium process; python = app, RTMP, FLV fan-out,"
            " watchers]"
        )
    # Other work on the machine shares the cores: figures from a loaded box say so.
    print(
        f"machine load (1-min average, all processes): {notes.get('load_before', 0):.2f} before"
        f" the run, {notes.get('load', float('nan')):.2f} near the end of the stream; CPU pressure"
        f" (PSI some avg60: time a runnable task waited for a core) {notes.get('pressure')}%"
    )
    if errors:
        print("page errors: " + "; ".join(errors[:5]))
    print(targets(rows))
    return 0 if ok else 1


def targets(rows: dict[str, float]) -> str:
    def verdict(good: bool) -> str:
        return "met" if good else "NOT met"

    parts = []
    if "browser-ll" in rows:
        ll = rows["browser-ll"]
        parts.append(f"browser-ll p50 {s(ll)} < 1 s: {verdict(ll < LL_TARGET_MS)}")
    # The reference is nginx-rtmp's HLS. Played in this browser by the same player it is
    # like for like; the modelled player (2 segments behind) is the socket-level figure.
    refs = [(n, rows[n]) for n in ("browser-nginx",) if n in rows]
    refs += [(n, rows[n]) for n in ("nginx", "bare") if n in rows][:1]
    for name in ("browser-hls", "browser-hlsjs"):
        if name not in rows:
            continue
        hls = rows[name]
        for ref_name, ref in refs:
            limit = HLS_VS_REFERENCE * ref
            what = "p50" if ref_name.startswith("browser") else "player p50"
            parts.append(
                f"{name} p50 {s(hls)} <= {HLS_VS_REFERENCE:g} x {ref_name} {what}"
                f" {s(ref)} = {s(limit)} ({hls / ref:.2f}x): {verdict(hls <= limit)}"
            )
        parts.append(f"{name} p50 < 3.5 s: {verdict(hls < HLS_TARGET_MS)}")
    return "targets: " + "; ".join(parts)

"""Glass-to-glass latency of live delivery, measured on stamped frames, next to references.

One source ffmpeg (the OBS stand-in: testsrc2 1280x720@30 + tone, -re, x264 zerolatency,
1 s GOP) stamps the wall-clock millisecond into every frame as a 24-bit stripe of 32x32
blocks (setpts=RTCTIME, geq), then fans out the same encoded stream to:

  ours-hls  our RTMP server (pyrtmp) -> media.live ladder 720p+360p -> 720p live playlist
  ours-ll   the same room's low-latency FLV feed (what a WebSocket / HTTP-FLV viewer gets)
  bare      `ffmpeg -i - ... -f hls -hls_time 1` (defaults otherwise: x264 lookahead)
  nginx     Debian nginx + libnginx-mod-rtmp, hls on, hls_fragment 1s (remux, no transcode)

The viewer side notes when each segment appears in its playlist (polled every 20 ms) and
when each FLV tag arrives, then decodes the stripes. Per frame it reports:
  available  stamp -> the frame can be fetched by a player (segment listed / tag received)
  player     HLS only: a player holding N segments behind the live edge shows the frame once
             the edge is N segments past it; N = 2 is our room page's hls.js setting
             (static/js/live-player.js liveSyncDurationCount), N = 3 hls.js's default and RFC
             8216 6.3.3's advice. Every path is measured with the same player.
Because stamps are taken from the wall clock as frames leave the (-re paced) source, `-re`
running ahead of the clock is already accounted for; its lead is printed as a check.
Usage: python bench/live_latency_bench.py [seconds]   (LIVE_BENCH_SEGMENT_S=0.5 for 0.5 s)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from media.live.commands import LiveOptions
from media.live.flv import TAG_VIDEO, FlvParser
from media.live.playlist import read_live_playlist
from media.live.rtmp import RtmpIngestServer
from media.live.session import LiveHub, process_cpu_seconds
from media.live.session import LiveRoom as MediaRoom

WIDTH, HEIGHT, FPS = 1280, 720, 30
SEGMENT_S = float(os.environ.get("LIVE_BENCH_SEGMENT_S", "1"))
GOP = round(FPS * SEGMENT_S)  # the source cuts where every path can cut
BITS, BLOCK = 24, 32
STRIPE_W, STRIPE_H = BITS * BLOCK, BLOCK
WARMUP_S, TAIL_S = 4.0, 1.5
OUR_PLAYER_HOLD = 2  # segments: static/js/live-player.js liveSyncDurationCount
DEFAULT_PLAYER_HOLD = 3  # hls.js's default
NGINX_PORT = 19351
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def now_ms() -> float:
    return time.time() * 1000.0


def source_argv(duration_s: float, outputs: list[str]) -> list[str]:
    stamp = (
        f"[0:v]settb=1/1000,setpts=RTCTIME/1000,split[a][b];"
        f"[b]crop={STRIPE_W}:{STRIPE_H}:0:0,"
        f"geq=lum='255*mod(floor(mod(T*1000\\,{1 << BITS})/pow(2\\,floor(X/{BLOCK})))\\,2)'"
        f":cb=128:cr=128[s];[a][s]overlay=0:0,setpts=N/({FPS}*TB)[v]"
    )
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-filter_complex", stamp, "-map", "[v]", "-map", "1:a",
        "-t", f"{duration_s:.1f}",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", "4000k",
        "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-flags", "+global_header",
        "-f", "tee", "|".join(f"[f=flv:onfail=ignore]{o}" for o in outputs),
    ]  # fmt: skip


def bare_argv(out: str) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "flv", "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-maxrate", "2750k",
        "-bufsize", "5000k", "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", "128k", "-f", "hls", "-hls_time", f"{SEGMENT_S:g}",
        "-hls_list_size", "6", "-hls_flags", "delete_segments",
        "-hls_segment_filename", os.path.join(out, "seg_%05d.ts"), os.path.join(out, "index.m3u8"),
    ]  # fmt: skip


def decode_stamps(path: str, fmt: str | None = None) -> list[float]:
    """Wall-clock ms stamped in each frame, in presentation order."""
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", *(["-f", fmt] if fmt else [])]
    argv += ["-i", path, "-map", "0:v:0", "-fps_mode", "passthrough"]
    # Back to the source's size first, so a smaller rendition (360p) decodes the same way.
    crop = f"scale={WIDTH}:{HEIGHT},crop={STRIPE_W}:{STRIPE_H}:0:0"
    argv += ["-vf", crop, "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(argv, capture_output=True, timeout=120, check=True).stdout
    size = STRIPE_W * STRIPE_H
    ref = int(now_ms())
    stamps = []
    lo, hi = BLOCK // 4, BLOCK * 3 // 4
    for i in range(len(raw) // size):
        frame = raw[i * size : (i + 1) * size]
        value = 0
        for bit in range(BITS):
            x0 = bit * BLOCK
            total = sum(
                sum(frame[y * STRIPE_W + x0 + lo : y * STRIPE_W + x0 + hi]) for y in range(lo, hi)
            )
            if total / ((hi - lo) ** 2) > 128:
                value |= 1 << bit
        stamps.append(float(ref - ((ref - value) % (1 << BITS))))
    return stamps


def capture_low_latency(room: MediaRoom, path: str, arrivals: list[float]) -> None:
    """A socket subscriber of the room's FLV feed: every video tag's arrival time, and the bytes
    (to decode the stamps afterwards). Returns when the feed ends."""
    parser = FlvParser()
    with open(path, "wb") as fh:
        for chunk in room.low_latency.subscribe():
            t = now_ms()
            fh.write(chunk)
            for tag in parser.feed(chunk):
                if tag.tag_type == TAG_VIDEO and not tag.is_sequence_header:
                    arrivals.append(t)


@dataclass
class HlsWatch:
    """Polls one playlist; hard-links each new segment aside with the time it appeared."""

    name: str
    playlist: str
    keep_dir: str
    seen: dict[str, float] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def poll(self) -> None:
        try:
            pl = read_live_playlist(self.playlist)
        except (ValueError, OSError):
            return
        if pl is None:
            return
        t = now_ms()
        folder = os.path.dirname(self.playlist)
        for seg in pl.segments:
            if seg.uri in self.seen:
                continue
            keep = os.path.join(self.keep_dir, f"{len(self.order):05d}.ts")
            try:
                os.link(os.path.join(folder, seg.uri), keep)
            except OSError:
                try:
                    shutil.copyfile(os.path.join(folder, seg.uri), keep)
                except OSError:
                    continue
            self.seen[seg.uri] = t
            self.order.append(seg.uri)

    def frames(self) -> list[tuple[float, float]]:
        """(stamp, available_at) per frame."""
        out = []
        for i, uri in enumerate(self.order):
            path = os.path.join(self.keep_dir, f"{i:05d}.ts")
            try:
                stamps = decode_stamps(path)
            except subprocess.CalledProcessError:
                continue
            out += [(s, self.seen[uri]) for s in stamps]
        return out

    def player_latencies(
        self, frames: list[tuple[float, float]], hold_segments: int
    ) -> list[float | None]:
        """Latency for a player holding hold_segments behind the live edge."""
        hold_ms = hold_segments * SEGMENT_S * 1000
        # Live edge over time: (available_at, media end of the newest listed segment).
        edges: list[tuple[float, float]] = []
        by_seg: dict[float, float] = {}
        for stamp, avail in frames:
            by_seg[avail] = max(by_seg.get(avail, 0.0), stamp + 1000.0 / FPS)
        for avail in sorted(by_seg):
            edge = max(by_seg[avail], edges[-1][1] if edges else 0.0)
            edges.append((avail, edge))
        out: list[float | None] = []
        for stamp, _ in frames:
            shown = next((t for t, e in edges if e - hold_ms >= stamp), None)
            out.append(None if shown is None else shown - stamp)
        return out

    def latencies(
        self, t_start: float, t_end: float, frames: list[tuple[float, float]] | None = None
    ) -> tuple[list[float], list[float], list[float]]:
        """ms per frame stamped in [t_start, t_end]: available, player (ours), player (3 seg)."""
        frames = self.frames() if frames is None else frames
        ours_hold = self.player_latencies(frames, OUR_PLAYER_HOLD)
        default_hold = self.player_latencies(frames, DEFAULT_PLAYER_HOLD)
        kept = [
            (s, a, p, p3)
            for (s, a), p, p3 in zip(frames, ours_hold, default_hold, strict=True)
            if t_start <= s <= t_end
        ]
        avail = [a - s for s, a, _, _ in kept]
        player = [p for _, _, p, _ in kept if p is not None]
        player3 = [p for _, _, _, p in kept if p is not None]
        return avail, player, player3


def start_nginx(
    work: str, port: int = NGINX_PORT, http: str = ""
) -> tuple[subprocess.Popen[bytes] | None, str]:
    """nginx-rtmp writing HLS into work/nginx-hls; `http` is an http {} block to serve as well."""
    hls = os.path.join(work, "nginx-hls")
    if not (shutil.which("nginx") and os.path.exists(NGINX_MODULE)):
        return None, os.path.join(hls, "bench.m3u8")
    os.makedirs(hls)
    os.chmod(work, 0o755)
    os.chmod(hls, 0o777)  # the workers run as nobody/www-data
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(
            f"load_module {NGINX_MODULE};\n"
            f"daemon off; worker_processes 1; pid {work}/nginx.pid;\n"
            f"error_log {work}/nginx-error.log warn;\n"
            "events { worker_connections 64; }\n"
            "rtmp { server { listen 127.0.0.1:%d; chunk_size 4096;\n"
            "  application live { live on; record off; hls on; hls_path %s;\n"
            "    hls_fragment %dms; hls_playlist_length %ds; hls_cleanup on; } } }\n"
            % (port, hls, round(SEGMENT_S * 1000), max(3, round(6 * SEGMENT_S)))
            + http
        )
    proc = subprocess.Popen(
        ["nginx", "-p", work, "-c", conf, "-e", f"{work}/nginx-error.log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    if proc.poll() is not None:
        return None, os.path.join(hls, "bench.m3u8")
    return proc, os.path.join(hls, "bench.m3u8")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill after 10 s."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def window(
    frames: list[tuple[float, float]], start: float, end: float
) -> list[tuple[float, float]]:
    return [(s, a) for s, a in frames if start <= s <= end]


def main(duration_s: float = 30.0) -> None:
    work = tempfile.mkdtemp(prefix="live-bench-")
    procs: list[subprocess.Popen[bytes]] = []
    hub = LiveHub(
        os.path.join(work, "ours"),
        authorize={"bench-key": "bench"}.get,
        options=LiveOptions(segment_s=SEGMENT_S),
        grace_s=0.5,
    )
    server = RtmpIngestServer(hub, port=0).start()
    nginx, nginx_playlist = start_nginx(work)
    if nginx is not None:
        procs.append(nginx)
    bare_dir = os.path.join(work, "bare")
    os.makedirs(bare_dir)
    watches = [
        HlsWatch("ours-hls", os.path.join(hub.root_dir, "bench", "720p", "index.m3u8"), ""),
        HlsWatch("bare", os.path.join(bare_dir, "index.m3u8"), ""),
    ]
    if nginx is not None:
        watches.append(HlsWatch("nginx", nginx_playlist, ""))
    for w in watches:
        w.keep_dir = os.path.join(work, "keep-" + w.name)
        os.makedirs(w.keep_dir)
    ll_path = os.path.join(work, "ll.flv")
    ll_arrivals: list[float] = []
    cpu: dict[str, float] = {}
    try:
        bare = subprocess.Popen(bare_argv(bare_dir), stdin=subprocess.PIPE)
        procs.append(bare)
        outputs = [f"rtmp\\://127.0.0.1\\:{server.port}/live/bench-key", "pipe\\:1"]
        if nginx is not None:
            outputs.append(f"rtmp\\://127.0.0.1\\:{NGINX_PORT}/live/bench")
        started = now_ms()
        source = subprocess.Popen(source_argv(duration_s, outputs), stdout=bare.stdin)
        procs.append(source)
        assert bare.stdin is not None
        bare.stdin.close()

        def low_latency_viewer() -> None:
            deadline = time.monotonic() + 20
            while (room := hub.room("bench")) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if room is not None:
                capture_low_latency(room, ll_path, ll_arrivals)

        viewer = threading.Thread(target=low_latency_viewer, daemon=True)
        viewer.start()
        cpu_marks: dict[str, tuple[float, float]] = {}
        deadline = time.monotonic() + duration_s + 30
        while source.poll() is None and time.monotonic() < deadline:
            for w in watches:
                w.poll()
            elapsed = (now_ms() - started) / 1000
            room = hub.room("bench")
            pid = room.ffmpeg_pid if room is not None else None
            if pid is not None and elapsed > WARMUP_S:
                for name, p in (("ours", pid), ("bare", bare.pid), ("python", os.getpid())):
                    try:
                        c = process_cpu_seconds(p)
                    except OSError:
                        continue
                    t0, c0 = cpu_marks.setdefault(name, (time.monotonic(), c))
                    if time.monotonic() - t0 > 1:
                        cpu[name] = (c - c0) / (time.monotonic() - t0)
            time.sleep(0.02)
        if source.poll() is None:
            source.kill()
        source.wait(10)
        end_poll = time.monotonic() + 3
        while time.monotonic() < end_poll:
            for w in watches:
                w.poll()
            time.sleep(0.02)
        room = hub.room("bench")
        if room is not None:
            room.end()
        viewer.join(10)
    finally:
        server.stop()
        hub.close()
        for p in procs:
            stop_process(p)

    ll_stamps = decode_stamps(ll_path, "flv") if os.path.getsize(ll_path) else []
    if len(ll_stamps) != len(ll_arrivals):
        print(f"note: {len(ll_stamps)} decoded LL frames for {len(ll_arrivals)} tags")
    ll_frames = list(zip(ll_stamps, ll_arrivals, strict=False))
    all_stamps = [s for s, _ in ll_frames]
    t_start = min(all_stamps) + WARMUP_S * 1000 if all_stamps else started + WARMUP_S * 1000
    t_end = max(all_stamps) - TAIL_S * 1000 if all_stamps else now_ms()

    print(
        f"live latency, {WIDTH}x{HEIGHT}@{FPS}, {SEGMENT_S:g} s segments, {duration_s:.0f} s"
        f" stream; player = hls.js-like, {OUR_PLAYER_HOLD} segments behind the live edge (ours)"
        f" or {DEFAULT_PLAYER_HOLD} (hls.js default), the same for every path; frames"
        f" from {WARMUP_S:g} s after the start to {TAIL_S:g} s before the end"
    )
    if all_stamps:
        # A clock started at the first frame: where frame i "should" be with -re keeping time.
        drift = [s - (all_stamps[0] + i * 1000 / FPS) for i, s in enumerate(all_stamps)]
        print(
            f"-re calibration: the source ran up to {-min(drift):.0f} ms ahead of a {FPS} fps"
            f" clock started at its first frame (median {-statistics.median(drift):.0f} ms);"
            " stamps are wall-clock, so the figures below need no correction"
        )
    header = ("path", "frames", "avail p50", "avail p95", "player p50", "player p95", "3-seg p50")
    print("{:<10}{:>7}{:>11}{:>11}{:>12}{:>12}{:>11}".format(*header))
    row = "{:<10}{:>7}{:>10.2f}s{:>10.2f}s{:>11}{:>12}{:>11}"
    rows: dict[str, float] = {}
    ll = [a - s for s, a in window(ll_frames, t_start, t_end)]
    print(row.format("ours-ll", len(ll), pct(ll, 0.5) / 1e3, pct(ll, 0.95) / 1e3, "(MSE)", "", ""))
    rows["ours-ll"] = pct(ll, 0.5)
    for w in watches:
        avail, player, player3 = w.latencies(t_start, t_end)
        rows[w.name] = pct(player, 0.5)
        p50, p95 = f"{pct(player, 0.5) / 1e3:.2f}s", f"{pct(player, 0.95) / 1e3:.2f}s"
        p3 = f"{pct(player3, 0.5) / 1e3:.2f}s"
        print(
            row.format(
                w.name, len(avail), pct(avail, 0.5) / 1e3, pct(avail, 0.95) / 1e3, p50, p95, p3
            )
        )
    if "nginx" not in rows:
        print(
            "nginx + libnginx-mod-rtmp not installed: apt-get install nginx-light libnginx-mod-rtmp"
        )
    ref = rows.get("nginx", rows.get("bare"))
    if ref:
        hls, low = rows["ours-hls"], rows["ours-ll"]

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        print(
            f"targets: ours-hls player p50 {hls / 1e3:.2f} s <= 1.2 x reference"
            f" {ref / 1e3:.2f} s = {1.2 * ref / 1e3:.2f} s: {verdict(hls <= 1.2 * ref)};"
            f" < 3.5 s: {verdict(hls < 3500)}; ours-ll p50 {low / 1e3:.2f} s < 1 s:"
            f" {verdict(low < 1000)}"
        )
    if cpu:
        print(
            "CPU seconds per second of stream (1.0 = one core): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            + "  [ours = our 720p+360p ffmpeg; bare = 720p only; python = this process:"
            " RTMP server, FLV fan-out, playlist watchers]"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)

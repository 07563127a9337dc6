"""The pages of the browser latency bench: the room page on a phone (its own player, switched by
its own toggle), the reference page nginx serves (live-player.js on nginx-rtmp's HLS), the frame
probe (live_browser_probe.js) and a trace of what hls.js itself did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.live_latency_bench import BITS, BLOCK, WIDTH

PROBE_JS = (Path(__file__).parent / "live_browser_probe.js").read_text(encoding="utf-8")
PAGE_TIMEOUT_MS = 30_000  # first frame: room live -> page -> player attached -> playing
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


# A browser without native HLS (Firefox, Chromium before it shipped its own): the page then
# plays HLS through hls.js with live-player.js's settings. The page's code is untouched.
HIDE_NATIVE_HLS = """(() => {
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) {
    return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
  };
})();"""
# What hls.js did, from outside the page's code: window.Hls is wrapped as the vendor script sets it,
# so every player the page makes reports its level switches, its stalls and the latency it aims at
# (hls.js adds liveSyncOnStallIncrease to its target after each stall, up to one segment).
HLS_TRACE = """(() => {
  const trace = { switches: [], stalls: [], errors: [], players: [] };
  window.__hlsTrace = trace;
  let wrapped;
  Object.defineProperty(window, "Hls", {
    configurable: true,
    get: () => wrapped,
    set(Hls) {
      wrapped = class extends Hls {
        constructor(config) {
          super(config);
          trace.players.push(this);
          const at = () => Math.round(performance.timeOrigin + performance.now());
          this.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => trace.switches.push([at(), d.level]));
          this.on(Hls.Events.ERROR, (_e, d) => {
            if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) trace.stalls.push(at());
            else trace.errors.push([at(), d.details, Boolean(d.fatal)]);
          });
        }
      };
    },
  });
})();"""
HLS_TRACE_TAKE = """() => {
  const t = window.__hlsTrace;
  const hls = t && t.players[t.players.length - 1];
  if (!hls) return null;
  return { switches: t.switches, stalls: t.stalls, errors: t.errors.slice(0, 20),
           targetLatency: hls.targetLatency, latency: hls.latency,
           levels: hls.levels.map((l) => l.height) };
}"""
# Which player the page attached: MSE players (mpegts.js, hls.js) give the <video> a blob: URL.
PLAYER_JS = """() => {
  const video = document.getElementById("live-video");
  const pressed = document.getElementById("latency-toggle").getAttribute("aria-pressed");
  if (!video.currentSrc && !video.src) return "";
  if (!(video.currentSrc || video.src).startsWith("blob:")) return "native HLS";
  return pressed === "true" ? "mpegts.js" : "hls.js";
}"""


def open_room(browser: Any, url: str, kind: str, errors: list[str]) -> tuple[Any, str]:
    """The room page on a phone, and the player it chose. kind: "ll" (the page's default),
    "hls" (HLS by the page's own latency toggle), "hlsjs" (the same without native HLS)."""
    context = browser.new_context(**PHONE)
    context.add_init_script(HLS_TRACE)
    if kind == "hlsjs":
        context.add_init_script(HIDE_NATIVE_HLS)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{kind}: {error}"))
    page.goto(url)
    # Where MSE exists the page starts on mpegts.js: the toggle shows, pressed, once FLV plays.
    page.wait_for_selector(
        '#latency-toggle:not([hidden])[aria-pressed="true"]', timeout=PAGE_TIMEOUT_MS
    )
    if kind != "ll":
        page.click("#latency-toggle")  # what a viewer taps: player.setLowLatency(false)
        # Not "visible": in native HLS mode the page hides the toggle.
        page.wait_for_selector(
            '#latency-toggle[aria-pressed="false"]', state="attached", timeout=PAGE_TIMEOUT_MS
        )
    page.wait_for_function(PLAYER_JS, timeout=PAGE_TIMEOUT_MS)
    return probed(page), page.evaluate(PLAYER_JS)


# Pages played by live-player.js on nginx (bench/live_browser_support.py's page): nginx-rtmp's
# HLS, and ours served by nginx instead of the app (the master playlist, or its 720p rung).
NGINX_PAGES = {
    "nginx": "",
    "ours-nginx": "?src=/ours/{room}/master.m3u8",
    "ours720-nginx": "?src=/ours/{room}/720p/index.m3u8",
    "app-nginx": "?src=/app/live/{room}/hls/master.m3u8",
    "app720-nginx": "?src=/app/live/{room}/hls/720p/index.m3u8",
}


def open_reference(browser: Any, url: str, kind: str, errors: list[str]) -> tuple[Any, str]:
    """A playlist played on a phone by live-player.js on a page nginx serves."""
    context = browser.new_context(**PHONE)
    context.add_init_script(HLS_TRACE)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{kind}: {error}"))
    page.goto(url)
    page.wait_for_function(
        "() => window.__player && window.__player.mode === 'hls'"
        " && document.getElementById('live-video').currentTime > 0",
        timeout=PAGE_TIMEOUT_MS,
    )
    return probed(page), f"hls.js (live-player.js), {url.rsplit('/', 1)[-1] or 'nginx-rtmp'}"


def probed(page: Any) -> Any:
    page.evaluate(
        PROBE_JS, {"bits": BITS, "block": BLOCK, "refWidth": WIDTH, "selector": "#live-video"}
    )
    return page

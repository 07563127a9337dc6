// Playing a live room. Two paths:
//  - low latency: HTTP-FLV bytes over a WebSocket, played by mpegts.js through Media Source
//    Extensions (window.mpegts, /static/vendor/mpegts.min.js);
//  - HLS with hls.js's low-latency settings (window.Hls) wherever MSE exists, else the browser's own
//    HLS (iPhone).
// The FLV path falls back to HLS on any error. Until the stream exists (the master playlist
// answers), the player waits and asks again: onState("waiting" | "playing" | "error").

import { playSafely } from "./player.js";
import { wsUrl } from "./live-common.js";

const HLS_TYPE = "application/vnd.apple.mpegurl";
const RETRY_MS = 3000;

const HLS_LIVE_CONFIG = {
  lowLatencyMode: true,
  liveSyncDurationCount: 2, // play two segments (or parts) behind the edge
  liveMaxLatencyDurationCount: 5, // further behind than this: jump forward
  maxLiveSyncPlaybackRate: 1.5, // or catch up by playing a little faster
  backBufferLength: 10,
  maxBufferLength: 10,
  capLevelToPlayerSize: true,
  // Start on the rung that fits the player, as if the line were good (5 Mbit/s), and adapt from
  // there. hls.js otherwise starts on the first rung (360p) and switches up within a second: with
  // two seconds buffered the switch stalls, and each stall adds a second to the latency hls.js
  // aims at, for the whole session (3.7 s instead of 2.6 s in make bench-live-browser).
  abrEwmaDefaultEstimate: 5_000_000,
  testBandwidth: false,
  manifestLoadingMaxRetry: 1,
};

const FLV_CONFIG = {
  enableWorker: false,
  enableStashBuffer: false, // hand every tag to the decoder at once
  stashInitialSize: 128,
  isLive: true,
  lazyLoad: false,
  liveBufferLatencyChasing: true,
  liveBufferLatencyMaxLatency: 1.5,
  liveBufferLatencyMinRemain: 0.3,
  // The feed starts at the cached keyframe, up to a GOP (1 s) old, and chasing only jumps past
  // 1.5 s of buffer: a viewer stayed wherever they joined (0.2-0.9 s buffered, 0.63-1.37 s glass
  // to glass in make bench-live-browser). Playing at 1.2x while more than 0.8 s is buffered,
  // until 0.5 s is left, holds it there (0.73-0.82 s, no stalls); 0.5/0.3 s stalled once a run.
  liveSync: true,
  liveSyncMaxLatency: 0.8,
  liveSyncTargetLatency: 0.5,
  liveSyncPlaybackRate: 1.2,
  autoCleanupSourceBuffer: true,
};

// mpegts.js 1.8.2 throws its own RuntimeException from a WebSocket "error" event that arrives
// after the player was destroyed while its socket was still connecting (xqq/mpegts.js#197): the
// handler it would report to is gone by then. It happens when a room ends or the page switches
// paths during a connect, and means nothing to us, so exactly that late throw is not reported.
let flvPlayersDestroyed = 0;
window.addEventListener("error", (event) => {
  const error = event.error;
  if (flvPlayersDestroyed && error && error.name === "RuntimeException" && /mpegts/.test(event.filename || "")) {
    event.preventDefault();
  }
});

export function lowLatencySupported() {
  const mpegts = window.mpegts;
  try {
    return Boolean(mpegts && mpegts.isSupported() && mpegts.getFeatureList().mseLivePlayback);
  } catch {
    return false;
  }
}

/**
 * options: hlsUrl, flvUrl, lowLatency (prefer FLV when supported), onState(state), onMode(mode).
 * Returns { mode, start(), stop(), wake(), setLowLatency(bool), jumpToLive(), behindLive() }.
 */
export function createLivePlayer(video, options) {
  const { hlsUrl, flvUrl, onState = () => {}, onMode = () => {} } = options;
  let lowLatency = options.lowLatency !== false;
  let hls = null;
  let flv = null;
  let mode = "none";
  let retryTimer = 0;
  let running = false;
  let flvFailed = false;
  let probing = false;

  video.playsInline = true;

  const setMode = (next) => {
    mode = next;
    onMode(next);
  };

  function detach() {
    clearTimeout(retryTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (flv) {
      flvPlayersDestroyed += 1;
      try {
        flv.pause();
        flv.unload();
        flv.detachMediaElement();
        flv.destroy();
      } catch {
        /* already torn down */
      }
      flv = null;
    }
    if (mode === "native") {
      video.removeAttribute("src");
      try {
        video.load();
      } catch {
        /* nothing loaded */
      }
    }
    setMode("none");
  }

  function waitAndRetry() {
    detach();
    onState("waiting");
    if (running) retryTimer = setTimeout(probe, RETRY_MS);
  }

  async function probe() {
    if (!running || probing) return;
    probing = true;
    let ok = false;
    try {
      const response = await fetch(hlsUrl, { cache: "no-store", credentials: "same-origin" });
      ok = response.ok;
    } catch {
      ok = false;
    } finally {
      probing = false;
    }
    if (!running || mode !== "none") return;
    if (!ok) {
      waitAndRetry();
      return;
    }
    if (lowLatency && !flvFailed && lowLatencySupported()) attachFlv();
    else attachHls();
  }

  function playing() {
    onState("playing");
  }

  function attachFlv() {
    const mpegts = window.mpegts;
    setMode("flv");
    flv = mpegts.createPlayer({ type: "flv", isLive: true, url: wsUrl(flvUrl) }, FLV_CONFIG);
    flv.on(mpegts.Events.ERROR, () => {
      // No FLV (or it broke): the HLS path is the fallback for this page.
      flvFailed = true;
      detach();
      if (running) attachHls();
    });
    flv.attachMediaElement(video);
    flv.load();
    playSafely(video);
  }

  function attachHls() {
    const Hls = window.Hls;
    // hls.js first wherever Media Source Extensions exist: its low-latency settings apply and the
    // page can switch back to the FLV path. Chromium 156 also answers "maybe" to HLS itself, and
    // its own player sat 4-6 s behind (make bench-live-browser). Native HLS is for iPhones.
    if (!Hls || !Hls.isSupported()) {
      if (!video.canPlayType(HLS_TYPE)) {
        onState("error");
        return;
      }
      setMode("native");
      video.src = hlsUrl;
      playSafely(video);
      return;
    }
    setMode("hls");
    hls = new Hls(HLS_LIVE_CONFIG);
    let mediaRecoveries = 0;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries += 1;
        hls.recoverMediaError();
      } else {
        waitAndRetry(); // the stream stopped or is not there yet: wait for it again
      }
    });
    hls.loadSource(hlsUrl);
    hls.attachMedia(video);
    playSafely(video);
  }

  function onNativeError() {
    if (mode === "native") waitAndRetry();
  }

  video.addEventListener("playing", playing);
  video.addEventListener("error", onNativeError);

  return {
    get mode() {
      return mode;
    },
    start() {
      if (running) return;
      running = true;
      onState("waiting");
      probe();
    },
    stop() {
      running = false;
      detach();
      video.pause();
    },
    /** The media became playable (the live.stream event): try now, not at the next retry. */
    wake() {
      if (!running || mode !== "none") return;
      clearTimeout(retryTimer);
      probe();
    },
    setLowLatency(on) {
      lowLatency = on;
      flvFailed = false;
      if (running) {
        detach();
        probe();
      }
    },
    /** Seconds between what plays and the newest media buffered or announced. */
    behindLive() {
      if (hls && Number.isFinite(hls.latency) && Number.isFinite(hls.targetLatency)) {
        return Math.max(0, hls.latency - hls.targetLatency);
      }
      const ranges = mode === "native" ? video.seekable : video.buffered;
      if (!ranges || ranges.length === 0) return 0;
      return Math.max(0, ranges.end(ranges.length - 1) - video.currentTime - 1);
    },
    jumpToLive() {
      if (hls && Number.isFinite(hls.liveSyncPosition)) {
        video.currentTime = hls.liveSyncPosition;
      } else {
        const ranges = mode === "native" ? video.seekable : video.buffered;
        if (ranges && ranges.length) video.currentTime = Math.max(0, ranges.end(ranges.length - 1) - 0.5);
      }
      playSafely(video);
    },
  };
}

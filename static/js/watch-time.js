// Watch time: how long each viewing of a feed video really played, sent with
// navigator.sendBeacon when it stops (pause, a swipe away, the tab hidden, the page left).
// A viewing is one play of a video while it is the current one; its random key lets the
// server cap what one viewing adds at the video's length.

import { csrfToken } from "./api.js";

const MIN_MS = 200; // shorter stretches are not worth a request

function newKey() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function send(url, view, ms) {
  const body = new URLSearchParams({ view, ms: String(ms), csrf_token: csrfToken() });
  // sendBeacon survives the page going away; a form body needs no preflight.
  if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
  fetch(url, { method: "POST", body, credentials: "same-origin", keepalive: true }).catch(() => {
    /* a lost beacon is a few seconds of ranking signal, not worth bothering the viewer */
  });
}

/** Track viewings of video elements; urlTemplate contains __ID__ for the video's public id. */
export function createWatchTracker(urlTemplate) {
  const viewings = new Map(); // video element -> { key, since, pending }

  function of(video) {
    let viewing = viewings.get(video);
    if (!viewing) {
      viewing = { key: newKey(), since: 0, pending: 0 };
      viewings.set(video, viewing);
    }
    return viewing;
  }

  /** The video started or resumed playing (as the current one). */
  function start(video) {
    const viewing = of(video);
    if (!viewing.since) viewing.since = performance.now();
  }

  /** It stopped playing for now (buffering): the time so far is kept for the next beacon. */
  function stop(video) {
    const viewing = viewings.get(video);
    if (!viewing || !viewing.since) return;
    viewing.pending += performance.now() - viewing.since;
    viewing.since = 0;
  }

  /** Send what this viewing played since its last beacon. */
  function flush(video, id) {
    stop(video);
    const viewing = viewings.get(video);
    if (!viewing || viewing.pending < MIN_MS) return;
    send(urlTemplate.replace("__ID__", encodeURIComponent(id)), viewing.key, Math.round(viewing.pending));
    viewing.pending = 0;
  }

  /** The viewer moved on: send the rest; the next play of this video is a new viewing. */
  function end(video, id) {
    flush(video, id);
    viewings.delete(video);
  }

  return { start, stop, flush, end };
}

// Attaching an HLS stream to a <video>: hls.js (Media Source Extensions), else native HLS (iOS),
// else the progressive MP4 fallback. Needs /static/vendor/hls.min.js loaded as a
// classic script before this module (it defines window.Hls).

const HLS_TYPE = "application/vnd.apple.mpegurl";

const HLS_CONFIG = {
  // Short videos: keep little in memory, and never fetch a rendition bigger than the player.
  capLevelToPlayerSize: true,
  maxBufferLength: 12,
  maxMaxBufferLength: 30,
  backBufferLength: 10,
  startLevel: -1,
  // A video still being encoded is an EVENT playlist that grows (media/progressive.py): play it
  // from the start, as its EXT-X-START says, not from its live edge.
  startPosition: 0,
};

/** video.play() without unhandled rejections; if sound was refused, retry muted. */
export function playSafely(video) {
  let promise;
  try {
    promise = video.play();
  } catch {
    return Promise.resolve(false);
  }
  if (!promise || typeof promise.then !== "function") return Promise.resolve(!video.paused);
  return promise.then(
    () => true,
    (err) => {
      if (err && err.name === "NotAllowedError" && !video.muted) {
        video.muted = true;
        video.dispatchEvent(new Event("volumechange"));
        return video.play().then(
          () => true,
          () => false,
        );
      }
      return false; // AbortError (paused or detached meanwhile) or no source: nothing to do
    },
  );
}

/** Play if paused, pause if playing. */
export function togglePlay(video) {
  if (video.paused || video.ended) return playSafely(video);
  video.pause();
  return Promise.resolve(false);
}

/**
 * Attach masterUrl (HLS) or fallbackUrl (MP4) to videoEl.
 * options: autoplay (default true), muted (default true), onFatal(error) when nothing can play.
 * Returns { mode, play(), pause(), destroy() }.
 */
export function attachPlayer(videoEl, masterUrl, fallbackUrl, options = {}) {
  const { autoplay = true, muted = true, onFatal = null } = options;
  const video = videoEl;
  video.playsInline = true;
  video.setAttribute("playsinline", "");
  video.setAttribute("webkit-playsinline", "");
  if (muted) {
    video.muted = true;
    video.defaultMuted = true;
  }

  let hls = null;
  let mode = "none";
  let destroyed = false;
  let usedFallback = false;
  let wantPlay = autoplay;
  let networkRetries = 0;
  let mediaRecoveries = 0;

  const fail = (error) => {
    if (onFatal && !destroyed) onFatal(error);
  };

  const switchToFallback = () => {
    if (usedFallback || !fallbackUrl || destroyed) return false;
    usedFallback = true;
    if (hls) {
      hls.destroy();
      hls = null;
    }
    video.removeEventListener("error", onNativeError);
    mode = "mp4";
    video.src = fallbackUrl;
    video.load();
    if (wantPlay) playSafely(video);
    return true;
  };

  function onNativeError() {
    if (!switchToFallback()) fail(video.error);
  }

  const Hls = window.Hls;
  // hls.js wherever Media Source Extensions exist, native HLS only without them (iOS before
  // 17.1), as live-player.js does: Chromium's own HLS says "maybe" but cannot parse a growing
  // EVENT playlist (a video still being encoded, media/progressive.py).
  if (masterUrl && Hls && Hls.isSupported()) {
    mode = "hls";
    hls = new Hls(HLS_CONFIG);
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal || destroyed) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < 2) {
        networkRetries += 1;
        hls.startLoad();
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries += 1;
        hls.recoverMediaError();
      } else if (!switchToFallback()) {
        fail(data);
      }
    });
    hls.loadSource(masterUrl);
    hls.attachMedia(video);
  } else if (masterUrl && video.canPlayType(HLS_TYPE)) {
    mode = "native";
    video.addEventListener("error", onNativeError);
    video.src = masterUrl;
  } else if (fallbackUrl) {
    mode = "mp4";
    usedFallback = true;
    video.addEventListener("error", onNativeError);
    video.src = fallbackUrl;
  } else {
    fail(new Error("no playable source"));
  }

  if (autoplay && mode !== "none") playSafely(video);

  return {
    get mode() {
      return mode;
    },
    video,
    play() {
      wantPlay = true;
      return playSafely(video);
    },
    pause() {
      wantPlay = false;
      video.pause();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      wantPlay = false;
      video.removeEventListener("error", onNativeError);
      video.pause();
      if (hls) {
        hls.destroy();
        hls = null;
      }
      // Dropping the source frees the decoder and the buffered media.
      video.removeAttribute("src");
      try {
        video.load();
      } catch {
        /* some browsers throw on load() without a source */
      }
    },
  };
}

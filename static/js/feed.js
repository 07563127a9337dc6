// The vertical video feed: one video per screen (CSS scroll-snap), only the one in view plays,
// players exist only around it, product cards follow the pins' times, more pages load near the end.

import { api, compactNumber, prefersReducedMotion, t, tn } from "./api.js";
import { openCheckout } from "./checkout.js";
import { setUpRail } from "./feed-rail.js";
import { showCardFlash } from "./flash-card.js";
import { showRating } from "./rating.js";
import { attachPlayer, playSafely, togglePlay } from "./player.js";
import { createWatchTracker } from "./watch-time.js";

const feedEl = document.getElementById("feed");
const emptyEl = document.getElementById("feed-empty");
const itemTemplate = document.getElementById("feed-item-template");
const pinTemplate = document.getElementById("pin-card-template");
const initial = JSON.parse(document.getElementById("feed-data").textContent);

// On a live's replay the panel names its room: an order from the replay is credited to the show.
const replayPanel = document.getElementById("replay-panel");
const FEED_URL = feedEl.dataset.feedUrl;
const VIEW_URL = feedEl.dataset.viewUrl; // contains __ID__
const watchTime = createWatchTracker(feedEl.dataset.watchUrl); // watch time, sent as beacons
const LOAD_MORE_WHEN_LEFT = 3; // items after the current one
const KEEP_BEHIND = 1; // players kept for items above the current one
const KEEP_AHEAD = 2; // ... and below it (attached only for the next one)

const state = {
  items: [], // { data, el, frame, video, player, pins: [{ pin, el }], viewed, userPaused }
  ids: new Set(),
  current: -1,
  cursor: initial.next_cursor,
  creatorId: initial.creator_id,
  tab: feedEl.dataset.tab || "latest",
  loading: false,
  retryAt: 0,
  muted: true,
  resumeOnVisible: false,
  rafId: 0,
};

// ---------------------------------------------------------------- rendering

function setAvatar(link, creator) {
  const img = link.querySelector("img.avatar");
  const placeholder = link.querySelector(".avatar.placeholder");
  if (creator.avatar_url) {
    img.src = creator.avatar_url;
    img.hidden = false;
    placeholder.hidden = true;
  } else {
    placeholder.textContent = (creator.display_name || "?").slice(0, 1);
  }
}

function checkoutSource(videoId) {
  const replay = replayPanel ? replayPanel.dataset : null;
  if (replay && replay.room && videoId && replay.videoId === videoId) {
    return { sourceKind: "live", sourceKey: replay.room };
  }
  return { sourceKind: "video", sourceKey: videoId };
}

function renderPin(pin) {
  const el = pinTemplate.content.firstElementChild.cloneNode(true);
  const product = pin.product;
  el.dataset.pinId = String(pin.id);
  const link = el.querySelector(".pin-link");
  link.href = product.url;
  link.setAttribute(
    "aria-label",
    t("product_label", { title: product.title, price: product.price_display }),
  );
  const buy = el.querySelector(".pin-buy");
  buy.setAttribute("aria-label", t("buy_label", { title: product.title }));
  buy.addEventListener("click", (event) => {
    event.stopPropagation(); // the video underneath keeps playing: this is not a tap on it
    const videoEl = el.closest(".feed-item");
    const item = state.items.find((candidate) => candidate.el === videoEl);
    openCheckout({ productId: product.id, ...checkoutSource(item ? item.data.id : null) });
  });
  const img = el.querySelector("img.pin-image");
  const placeholder = el.querySelector(".img-placeholder");
  if (product.image_url) {
    img.src = product.image_url;
    img.hidden = false;
    placeholder.hidden = true;
  }
  el.querySelector(".pin-title").textContent = product.title;
  el.querySelector(".pin-price").textContent = product.price_display;
  showRating(el.querySelector(".pin-rating"), product);
  showCardFlash(el, product);
  el.hidden = true;
  return { pin, el };
}

function setViews(item, count) {
  item.data.view_count = count;
  item.el.querySelector(".video-views").textContent = tn("views", count, {
    num: compactNumber(count),
  });
}

function renderItem(data, index) {
  const el = itemTemplate.content.firstElementChild.cloneNode(true);
  el.dataset.videoId = data.id;
  el.setAttribute("aria-posinset", String(index + 1));
  const titleId = `video-title-${index}`;
  el.setAttribute("aria-labelledby", titleId);

  const frame = el.querySelector(".frame");
  const video = el.querySelector("video.feed-video");
  video.dataset.videoId = data.id;
  if (data.poster_url) video.poster = data.poster_url;
  if (data.width && data.height && data.width > data.height) frame.classList.add("is-landscape");

  for (const link of el.querySelectorAll(".creator-link")) {
    link.href = data.creator.url;
  }
  const sideLink = el.querySelector(".feed-side-avatar");
  sideLink.setAttribute("aria-label", t("creator_page", { name: data.creator.display_name }));
  setAvatar(sideLink, data.creator);
  el.querySelector(".creator-name").textContent = "@" + data.creator.display_name;

  const title = el.querySelector(".video-title");
  title.id = titleId;
  title.textContent = data.title;
  title.hidden = !data.title;
  video.setAttribute("aria-label", data.title || data.creator.display_name);

  const description = el.querySelector(".video-description");
  const more = el.querySelector(".more-button");
  if (data.description) {
    description.textContent = data.description;
    description.hidden = false;
    more.textContent = t("more");
    more.addEventListener("click", () => {
      const open = description.classList.toggle("expanded");
      more.textContent = open ? t("less") : t("more");
      more.setAttribute("aria-expanded", String(open));
    });
  }

  const stack = el.querySelector(".pin-stack");
  const pins = (data.pins || []).map(renderPin);
  for (const { el: card } of pins) stack.append(card);

  const item = { data, el, frame, video, player: null, pins, viewed: false, userPaused: false, index };
  setViews(item, data.view_count);
  setUpRail(el, data, showToast);
  el.addEventListener("pins-changed", () => updatePins(item));
  bindItem(item);
  return item;
}

function checkDescriptionOverflow(item) {
  const description = item.el.querySelector(".video-description");
  const more = item.el.querySelector(".more-button");
  if (description.hidden) return;
  more.hidden = description.scrollHeight <= description.clientHeight + 1;
}

// ---------------------------------------------------------------- pins

function updatePins(item) {
  const ms = item.video.currentTime * 1000;
  const all = item.el.querySelector(".pin-stack").dataset.showAll === "true"; // the rail's bag
  for (const { pin, el } of item.pins) {
    const end = pin.end_ms ?? Infinity;
    const visible = all || (pin.start_ms <= ms && ms < end);
    if (el.hidden === visible) el.hidden = !visible;
  }
}

// timeupdate fires only ~4 times a second: while the current video plays, check every frame.
function tick() {
  state.rafId = 0;
  const item = state.items[state.current];
  if (!item || item.video.paused) return;
  updatePins(item);
  state.rafId = requestAnimationFrame(tick);
}

function startTicking() {
  if (!state.rafId) state.rafId = requestAnimationFrame(tick);
}

function stopTicking() {
  if (state.rafId) cancelAnimationFrame(state.rafId);
  state.rafId = 0;
}

// ---------------------------------------------------------------- playback

function syncMuteButton(item) {
  const button = item.el.querySelector(".mute-button");
  const muted = item.video.muted;
  button.classList.toggle("is-muted", muted);
  button.querySelector(".mute-label").textContent = muted ? t("unmute") : t("mute");
}

function setMuted(muted) {
  state.muted = muted;
  for (const item of state.items) {
    item.video.muted = muted;
    syncMuteButton(item);
  }
  const current = state.items[state.current];
  if (current && !muted && current.video.paused && !current.userPaused) playSafely(current.video);
}

function showIndicator(item, show) {
  item.el.querySelector(".play-indicator").hidden = !show;
}

function countView(item) {
  if (item.viewed) return;
  item.viewed = true;
  api("POST", VIEW_URL.replace("__ID__", encodeURIComponent(item.data.id)))
    .then((result) => {
      if (result && typeof result.view_count === "number") setViews(item, result.view_count);
    })
    .catch(() => {
      /* a lost view count is not worth bothering the viewer */
    });
}

function bindItem(item) {
  const { video, frame } = item;
  video.muted = state.muted;
  syncMuteButton(item);

  frame.addEventListener("click", (event) => {
    if (event.target.closest("a, button")) return;
    if (state.items[state.current] !== item) return;
    item.userPaused = !video.paused;
    togglePlay(video);
  });
  item.el.querySelector(".mute-button").addEventListener("click", () => {
    setMuted(!video.muted);
  });

  video.addEventListener("playing", () => {
    frame.classList.remove("is-loading");
    countView(item);
    if (state.items[state.current] === item) watchTime.start(video);
  });
  video.addEventListener("play", () => {
    showIndicator(item, false);
    if (state.items[state.current] === item) startTicking();
  });
  video.addEventListener("pause", () => {
    watchTime.flush(video, item.data.id);
    if (state.items[state.current] === item) showIndicator(item, true);
    updatePins(item);
  });
  video.addEventListener("waiting", () => {
    frame.classList.add("is-loading");
    watchTime.stop(video);
  });
  video.addEventListener("canplay", () => frame.classList.remove("is-loading"));
  video.addEventListener("timeupdate", () => updatePins(item));
  video.addEventListener("seeked", () => updatePins(item));
  video.addEventListener("emptied", () => updatePins(item));
  video.addEventListener("volumechange", () => {
    // The browser may refuse sound (autoplay policy): follow what really happened.
    if (state.items[state.current] === item && video.muted !== state.muted) {
      state.muted = video.muted;
      for (const other of state.items) {
        other.video.muted = state.muted;
        syncMuteButton(other);
      }
    }
    syncMuteButton(item);
  });
}

/** Attach a player if there is none; false when the video has nothing to play (yet). */
function ensurePlayer(item, autoplay) {
  if (item.player) return true;
  const { data } = item;
  if (!data.master_url && !data.fallback_url) {
    item.frame.classList.add("is-broken");
    item.frame.dataset.message = t("not_ready");
    return false;
  }
  item.video.preload = "auto";
  item.player = attachPlayer(item.video, data.master_url, data.fallback_url, {
    autoplay,
    muted: state.muted,
    onFatal: () => {
      item.frame.classList.remove("is-loading");
      item.frame.classList.add("is-broken");
      item.frame.dataset.message = t("cannot_play");
    },
  });
  item.video.muted = state.muted;
  return true;
}

function dropPlayer(item) {
  if (!item.player) return;
  item.player.destroy();
  item.player = null;
  item.video.preload = "none";
  item.frame.classList.remove("is-loading");
}

function setCurrent(index) {
  if (index === state.current || !state.items[index]) return;
  const previous = state.items[state.current];
  if (previous) {
    watchTime.end(previous.video, previous.data.id); // a swipe ends its viewing
    previous.video.pause();
    showIndicator(previous, false);
    previous.el.removeAttribute("aria-current");
  }
  stopTicking();
  state.current = index;
  const item = state.items[index];
  item.el.setAttribute("aria-current", "true");

  state.items.forEach((other, j) => {
    if (j < index - KEEP_BEHIND || j > index + KEEP_AHEAD) dropPlayer(other);
  });
  item.userPaused = false;
  if (item.player) {
    item.video.muted = state.muted;
    playSafely(item.video);
  } else if (ensurePlayer(item, !document.hidden)) {
    if (item.video.readyState < 3) item.frame.classList.add("is-loading");
  }
  const next = state.items[index + 1];
  if (next) ensurePlayer(next, false);
  updatePins(item);

  if (state.items.length - 1 - index < LOAD_MORE_WHEN_LEFT) loadMore();
}

// ---------------------------------------------------------------- the list

const observer = new IntersectionObserver(
  (entries) => {
    let best = null;
    for (const entry of entries) {
      if (entry.isIntersecting && entry.intersectionRatio >= 0.6) {
        if (!best || entry.intersectionRatio > best.intersectionRatio) best = entry;
      }
    }
    if (best) setCurrent(Number(best.target.dataset.index));
  },
  { root: feedEl, threshold: [0, 0.6, 0.9] },
);

function addItems(list) {
  const added = [];
  for (const data of list) {
    if (state.ids.has(data.id)) continue;
    state.ids.add(data.id);
    const index = state.items.length;
    const item = renderItem(data, index);
    item.el.dataset.index = String(index);
    state.items.push(item);
    feedEl.append(item.el);
    observer.observe(item.el);
    added.push(item);
  }
  requestAnimationFrame(() => added.forEach(checkDescriptionOverflow));
  const empty = state.items.length === 0;
  feedEl.hidden = empty;
  emptyEl.hidden = !empty;
  // The item after the current one may have just arrived: get it ready.
  const next = state.items[state.current + 1];
  if (state.current >= 0 && next) ensurePlayer(next, false);
}

async function loadMore() {
  if (state.loading || !state.cursor || Date.now() < state.retryAt) return;
  state.loading = true;
  feedEl.setAttribute("aria-busy", "true");
  const params = new URLSearchParams({ cursor: state.cursor });
  if (state.creatorId != null) params.set("creator_id", String(state.creatorId));
  else params.set("tab", state.tab);
  try {
    const page = await api("GET", `${FEED_URL}?${params}`);
    state.cursor = page.next_cursor;
    addItems(page.items);
  } catch {
    state.retryAt = Date.now() + 5000; // tried again when the viewer moves on
    showToast(t("load_more_failed"));
  } finally {
    state.loading = false;
    feedEl.setAttribute("aria-busy", "false");
  }
}

let toastTimer = 0;
function showToast(text) {
  let toast = document.getElementById("feed-toast");
  if (!toast) {
    toast = document.createElement("div");
    toast.id = "feed-toast";
    toast.className = "toast";
    toast.setAttribute("role", "status");
    document.body.append(toast);
  }
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.hidden = true;
  }, 4000);
}

// ---------------------------------------------------------------- navigation

function go(delta) {
  const target = Math.max(0, Math.min(state.items.length - 1, state.current + delta));
  const item = state.items[target];
  if (!item) return;
  item.el.focus({ preventScroll: true });
  item.el.scrollIntoView({ behavior: prefersReducedMotion() ? "auto" : "smooth", block: "start" });
}

function isTyping(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || state.items.length === 0) return;
  const current = state.items[state.current];
  switch (event.key) {
    case "ArrowDown":
    case "PageDown":
    case "j":
      event.preventDefault();
      go(1);
      break;
    case "ArrowUp":
    case "PageUp":
    case "k":
      event.preventDefault();
      go(-1);
      break;
    case " ":
    case "Spacebar":
      // Space on a focused link or button activates it, as everywhere else.
      if (event.target instanceof Element && event.target.closest("a, button")) return;
      event.preventDefault();
      if (current) {
        current.userPaused = !current.video.paused;
        togglePlay(current.video);
      }
      break;
    case "m":
    case "M":
      event.preventDefault();
      setMuted(!state.muted);
      break;
    default:
  }
});

// A mouse wheel notch or one trackpad gesture moves exactly one video.
let wheelTotal = 0;
let wheelLast = 0;
let wheelLockUntil = 0;
feedEl.addEventListener(
  "wheel",
  (event) => {
    if (event.ctrlKey || Math.abs(event.deltaY) <= Math.abs(event.deltaX)) return;
    event.preventDefault();
    const now = performance.now();
    if (now < wheelLockUntil) {
      // Still the same gesture (trackpad inertia): keep ignoring it for a little longer.
      wheelLockUntil = Math.max(wheelLockUntil, now + 150);
      wheelLast = now;
      return;
    }
    if (now - wheelLast > 250) wheelTotal = 0;
    wheelLast = now;
    const scale = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? feedEl.clientHeight : 1;
    wheelTotal += event.deltaY * scale;
    if (Math.abs(wheelTotal) >= 30) {
      go(wheelTotal > 0 ? 1 : -1);
      wheelTotal = 0;
      wheelLockUntil = now + 600;
    }
  },
  { passive: false },
);

document.addEventListener("visibilitychange", () => {
  const item = state.items[state.current];
  if (!item) return;
  if (document.hidden) {
    watchTime.flush(item.video, item.data.id); // the page may never come back
    state.resumeOnVisible = !item.video.paused;
    item.video.pause();
  } else if (state.resumeOnVisible) {
    state.resumeOnVisible = false;
    playSafely(item.video);
  }
});

window.addEventListener("pagehide", () => {
  const item = state.items[state.current];
  if (item) watchTime.flush(item.video, item.data.id);
});

addItems(initial.items || []);

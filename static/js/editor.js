// Video editor: player + timeline (sprite filmstrip, playhead, pins), product pins, details,
// cover frame, publishing and deletion; follows processing live until the video is playable.

import { api, flashStatus, formatTime, showError, t } from "./api.js";
import { attachPlayer } from "./player.js";
import { followProgress } from "./realtime.js";

const root = document.getElementById("editor");
const urls = {
  video: root.dataset.videoUrl,
  pins: root.dataset.pinsUrl,
  pin: (id) => `${root.dataset.pinsUrl}/${encodeURIComponent(id)}`,
  cover: root.dataset.coverUrl,
  publish: root.dataset.publishUrl,
  unpublish: root.dataset.unpublishUrl,
  studio: root.dataset.studioUrl,
};

const $ = (id) => document.getElementById(id);
const videoEl = $("editor-video");
const processing = {
  box: $("editor-processing"),
  label: $("processing-label"),
  bar: $("processing-progress"),
  error: $("processing-error"),
};
const timeline = $("timeline");
const track = $("timeline-track");
const strip = $("timeline-strip");
const pinLane = $("timeline-pins");
const playhead = $("timeline-playhead");
const timeCurrent = $("time-current");
const timeTotal = $("time-total");

let video = JSON.parse($("video-data").textContent);
let pins = [...(video.pins || [])];
let player = null;

const fieldLabels = {
  title: t("field_title"),
  description: t("field_description"),
  product_id: t("field_product_id"),
  start_ms: t("field_start_ms"),
  end_ms: t("field_end_ms"),
  cover_ms: t("field_cover_ms"),
};

// ---------------------------------------------------------------- time

function durationS() {
  if (video.duration_ms > 0) return video.duration_ms / 1000;
  return Number.isFinite(videoEl.duration) ? videoEl.duration : 0;
}

function currentS() {
  return videoEl.currentTime || 0;
}

function seek(seconds) {
  const total = durationS();
  const target = Math.max(0, Math.min(total > 0 ? total - 0.001 : 0, seconds));
  try {
    videoEl.currentTime = target;
  } catch {
    /* no media yet */
  }
  drawPlayhead(target);
}

function drawPlayhead(seconds = currentS()) {
  const total = durationS();
  const fraction = total > 0 ? Math.min(1, seconds / total) : 0;
  playhead.style.left = `${fraction * 100}%`;
  timeCurrent.textContent = formatTime(seconds);
  timeTotal.textContent = formatTime(total);
  track.setAttribute("aria-valuenow", seconds.toFixed(1));
  track.setAttribute("aria-valuemax", total.toFixed(1));
  track.setAttribute(
    "aria-valuetext",
    t("timeline_value", { time: formatTime(seconds), total: formatTime(total) }),
  );
}

let rafId = 0;
function tick() {
  drawPlayhead();
  rafId = videoEl.paused ? 0 : requestAnimationFrame(tick);
}
videoEl.addEventListener("play", () => {
  if (!rafId) rafId = requestAnimationFrame(tick);
});
for (const name of ["timeupdate", "seeking", "seeked", "loadedmetadata", "pause"]) {
  videoEl.addEventListener(name, () => drawPlayhead());
}

// ---------------------------------------------------------------- timeline: filmstrip

function renderStrip() {
  const sprite = video.sprite;
  const total = video.duration_ms || durationS() * 1000;
  strip.replaceChildren();
  if (!sprite || !sprite.url || !sprite.tiles || !total) {
    strip.classList.add("is-empty");
    return;
  }
  strip.classList.remove("is-empty");
  const safeUrl = sprite.url.replace(/["\\\n\r]/g, (c) => encodeURIComponent(c));
  strip.style.setProperty("--sprite", `url("${safeUrl}")`);
  const width = strip.clientWidth;
  const height = strip.clientHeight || 56;
  const aspect = video.width > 0 && video.height > 0 ? video.width / video.height : 9 / 16;
  // As many frames as fit without distortion; each shows the tile of its moment.
  const count = Math.max(1, Math.round(width / (height * aspect)));
  const interval = sprite.interval_ms || total / sprite.tiles;
  for (let i = 0; i < count; i += 1) {
    const at = ((i + 0.5) * total) / count;
    const tile = Math.min(sprite.tiles - 1, Math.floor(at / interval));
    const frame = document.createElement("div");
    frame.className = "timeline-frame";
    frame.style.backgroundSize = `${sprite.tiles * 100}% 100%`;
    frame.style.backgroundPositionX = sprite.tiles > 1 ? `${(tile / (sprite.tiles - 1)) * 100}%` : "0";
    strip.append(frame);
  }
}

new ResizeObserver(() => renderStrip()).observe(strip);

// ---------------------------------------------------------------- timeline: seeking

let dragging = null;

function secondsAt(clientX) {
  const rect = track.getBoundingClientRect();
  const fraction = rect.width > 0 ? (clientX - rect.left) / rect.width : 0;
  return Math.max(0, Math.min(1, fraction)) * durationS();
}

timeline.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || event.target.closest(".timeline-pin")) return;
  dragging = event.pointerId;
  timeline.setPointerCapture(event.pointerId);
  timeline.classList.add("is-dragging");
  track.focus({ preventScroll: true });
  seek(secondsAt(event.clientX));
  event.preventDefault();
});
timeline.addEventListener("pointermove", (event) => {
  if (dragging === event.pointerId) seek(secondsAt(event.clientX));
});
for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
  timeline.addEventListener(name, (event) => {
    if (dragging !== event.pointerId) return;
    dragging = null;
    timeline.classList.remove("is-dragging");
  });
}

track.addEventListener("keydown", (event) => {
  const step = event.shiftKey ? 5 : 1;
  const moves = {
    ArrowLeft: -step,
    ArrowDown: -step,
    ArrowRight: step,
    ArrowUp: step,
    PageDown: -10,
    PageUp: 10,
  };
  if (event.key in moves) seek(currentS() + moves[event.key]);
  else if (event.key === "Home") seek(0);
  else if (event.key === "End") seek(durationS());
  else return;
  event.preventDefault();
});

// ---------------------------------------------------------------- pins

function pinColour(pin) {
  const hue = (pin.product.id * 67 + 200) % 360;
  return `hsl(${hue} 75% 55%)`;
}

function pinTimes(pin) {
  const start = formatTime(pin.start_ms / 1000);
  const end = pin.end_ms == null ? t("until_end") : formatTime(pin.end_ms / 1000);
  return { start, end };
}

function renderPins() {
  pins.sort((a, b) => a.start_ms - b.start_ms || a.id - b.id);
  const total = video.duration_ms || durationS() * 1000;

  // Timeline: overlapping pins go to separate lanes.
  pinLane.replaceChildren();
  const laneEnds = [];
  for (const pin of pins) {
    const end = pin.end_ms ?? total;
    let lane = laneEnds.findIndex((laneEnd) => laneEnd <= pin.start_ms);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(end);
    } else {
      laneEnds[lane] = end;
    }
    const { start: startText, end: endText } = pinTimes(pin);
    const segment = document.createElement("button");
    segment.type = "button";
    segment.className = "timeline-pin";
    segment.dataset.pinId = String(pin.id);
    segment.style.left = `${total ? (pin.start_ms / total) * 100 : 0}%`;
    segment.style.width = `${total ? (Math.max(0, end - pin.start_ms) / total) * 100 : 0}%`;
    segment.style.setProperty("--lane", String(lane));
    segment.style.setProperty("--pin-colour", pinColour(pin));
    const label = t("pin_label", { title: pin.product.title, start: startText, end: endText });
    segment.title = label;
    segment.setAttribute("aria-label", label);
    segment.addEventListener("click", () => seek(pin.start_ms / 1000));
    pinLane.append(segment);
  }
  timeline.style.setProperty("--lanes", String(Math.max(1, laneEnds.length)));

  // The list under the form.
  const list = $("pin-list");
  const template = $("pin-row-template");
  list.replaceChildren();
  for (const pin of pins) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.pinId = String(pin.id);
    row.querySelector(".pin-swatch").style.background = pinColour(pin);
    row.querySelector(".pin-row-title").textContent = pin.product.title;
    row.querySelector(".pin-row-times").textContent = t("pin_times", pinTimes(pin));
    const go = row.querySelector(".pin-seek");
    go.setAttribute("aria-label", t("go_to_pin", { title: pin.product.title }));
    go.addEventListener("click", () => seek(pin.start_ms / 1000));
    const remove = row.querySelector(".pin-delete");
    remove.setAttribute("aria-label", t("delete_pin", { title: pin.product.title }));
    remove.addEventListener("click", () => removePin(pin, remove));
    list.append(row);
  }
  $("pin-empty").hidden = pins.length > 0;
}

async function removePin(pin, button) {
  const errorEl = $("pin-error");
  button.disabled = true;
  try {
    await api("DELETE", urls.pin(pin.id));
    pins = pins.filter((p) => p.id !== pin.id);
    renderPins();
    showError(errorEl, null);
    flashStatus($("pin-status"), t("pin_removed"));
  } catch (err) {
    button.disabled = false;
    if (err.status === 404) {
      pins = pins.filter((p) => p.id !== pin.id);
      renderPins();
    }
    showError(errorEl, err, { labels: fieldLabels });
  }
}

function parseSeconds(text) {
  const cleaned = String(text).trim().replace(",", ".");
  if (cleaned === "") return null;
  const value = Number(cleaned);
  return Number.isFinite(value) && value >= 0 ? value : NaN;
}

function oneDecimal(seconds) {
  return (Math.round(seconds * 10) / 10).toFixed(1);
}

const pinForm = $("pin-form");
if (pinForm) {
  const product = $("pin-product");
  const start = $("pin-start");
  const end = $("pin-end");
  const errorEl = $("pin-error");
  const inputs = { product_id: product, start_ms: start, end_ms: end };
  const addButton = $("pin-add");

  $("pin-start-now").addEventListener("click", () => {
    start.value = oneDecimal(currentS());
  });
  $("pin-end-now").addEventListener("click", () => {
    end.value = oneDecimal(currentS());
  });

  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const productId = Number(product.value);
    const startS = parseSeconds(start.value);
    const endS = parseSeconds(end.value);
    let problem = null;
    if (!productId) problem = { message: t("choose_product"), fields: {}, input: product };
    else if (startS === null || Number.isNaN(startS)) problem = { message: t("bad_start"), input: start };
    else if (Number.isNaN(endS)) problem = { message: t("bad_end"), input: end };
    else if (endS !== null && Math.round(endS * 1000) <= Math.round(startS * 1000))
      problem = { message: t("end_before_start"), input: end };
    if (problem) {
      showError(errorEl, problem, { inputs });
      problem.input.setAttribute("aria-invalid", "true");
      problem.input.focus();
      return;
    }
    addButton.disabled = true;
    try {
      const pin = await api("POST", urls.pins, {
        product_id: productId,
        start_ms: Math.round(startS * 1000),
        end_ms: endS === null ? null : Math.round(endS * 1000),
      });
      pins.push(pin);
      renderPins();
      showError(errorEl, null, { inputs });
      flashStatus($("pin-status"), t("pin_added"));
    } catch (err) {
      showError(errorEl, err, { labels: fieldLabels, inputs });
    } finally {
      addButton.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- details

const detailsForm = $("details-form");
const titleInput = $("video-title");
const descriptionInput = $("video-description");
const detailInputs = { title: titleInput, description: descriptionInput };

function detailsDirty() {
  return titleInput.value !== video.title || descriptionInput.value !== video.description;
}

async function saveDetails() {
  const errorEl = $("details-error");
  const status = $("details-status");
  const button = $("video-save");
  button.disabled = true;
  status.textContent = t("saving");
  try {
    const updated = await api("PATCH", urls.video, {
      title: titleInput.value,
      description: descriptionInput.value,
    });
    applyVideo(updated);
    titleInput.value = updated.title;
    descriptionInput.value = updated.description;
    showError(errorEl, null, { inputs: detailInputs });
    flashStatus(status, t("saved"));
    return true;
  } catch (err) {
    status.textContent = "";
    showError(errorEl, err, { labels: fieldLabels, inputs: detailInputs });
    return false;
  } finally {
    button.disabled = false;
  }
}

detailsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveDetails();
});

// ---------------------------------------------------------------- publishing

const publishButton = $("publish");
const unpublishButton = $("unpublish");

async function setPublished(publish) {
  const errorEl = $("publish-error");
  const status = $("publish-status");
  showError(errorEl, null);
  if (publish && detailsDirty() && !(await saveDetails())) {
    showError(errorEl, { message: $("details-error").textContent || t("error_generic") });
    return;
  }
  publishButton.disabled = unpublishButton.disabled = true;
  if (publish) status.textContent = t("publishing");
  try {
    const updated = await api("POST", publish ? urls.publish : urls.unpublish);
    applyVideo(updated);
    flashStatus(status, publish ? t("published_done") : t("unpublished_done"));
    (publish ? unpublishButton : publishButton).focus();
  } catch (err) {
    status.textContent = "";
    showError(errorEl, err, { labels: fieldLabels, inputs: { title: titleInput } });
  } finally {
    publishButton.disabled = unpublishButton.disabled = false;
  }
}

publishButton.addEventListener("click", () => setPublished(true));
unpublishButton.addEventListener("click", () => setPublished(false));

// ---------------------------------------------------------------- cover

const coverButton = $("cover-now");
let coverWait = null; // { poster, until, timer }

function stopCoverWait(done) {
  if (!coverWait) return;
  clearTimeout(coverWait.timer);
  coverWait = null;
  coverButton.disabled = video.state !== "ready";
  if (done) flashStatus($("cover-status"), t("cover_updated"));
}

async function checkCover() {
  if (!coverWait) return;
  try {
    const fresh = await api("GET", urls.video);
    applyVideo(fresh);
  } catch {
    /* try again below */
  }
  if (!coverWait) return;
  if (Date.now() > coverWait.until) {
    stopCoverWait(false);
    $("cover-status").textContent = "";
    return;
  }
  coverWait.timer = setTimeout(checkCover, 2500); // in case the socket is down
}

coverButton.addEventListener("click", async () => {
  const errorEl = $("cover-error");
  coverButton.disabled = true;
  try {
    const updated = await api("PUT", urls.cover, { cover_ms: Math.round(currentS() * 1000) });
    showError(errorEl, null);
    $("cover-status").textContent = t("cover_updating");
    coverWait = { poster: updated.poster_url, until: Date.now() + 60000, timer: 0 };
    coverWait.timer = setTimeout(checkCover, 2500);
  } catch (err) {
    coverButton.disabled = video.state !== "ready";
    showError(errorEl, err, { labels: fieldLabels });
  }
});

// ---------------------------------------------------------------- delete

$("delete-video").addEventListener("click", async (event) => {
  if (!window.confirm(t("confirm_delete"))) return;
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await api("DELETE", urls.video);
    window.location.assign(urls.studio);
  } catch (err) {
    button.disabled = false;
    showError($("delete-error"), err);
  }
});

// ---------------------------------------------------------------- processing and the player

function stateLabel(p) {
  if (p.state === "failed") return t("state_failed");
  if (p.state === "ready") return t("state_ready");
  return p.playable ? t("state_playable") : t("state_processing");
}

function applyProgress(p) {
  const stateEl = $("video-state");
  stateEl.dataset.state = p.state;
  stateEl.textContent = stateLabel(p);
  const failed = p.state === "failed";
  // Before the first rendition: over the player. Once it plays: a slim bar on top of it.
  processing.box.hidden = p.state === "ready";
  processing.box.classList.toggle("is-compact", !!player && !failed);
  processing.box.classList.toggle("is-failed", failed);
  processing.label.textContent = failed
    ? t("processing_failed")
    : t("processing_percent", { percent: Math.max(0, Math.min(100, p.progress || 0)) });
  processing.bar.value = p.progress || 0;
  processing.bar.hidden = failed;
  processing.error.textContent = failed ? p.error || "" : "";
  processing.error.hidden = !(failed && p.error);
  const ready = p.state === "ready";
  $("cover-hint").hidden = ready;
  if (!coverWait) coverButton.disabled = !ready;
}

function applyAspect() {
  if (video.width > 0 && video.height > 0) {
    root.style.setProperty("--video-aspect", String(video.width / video.height));
  }
}

/** Take in a fresh VideoOut: badges, poster, timeline, and the player once playable. */
function applyVideo(fresh) {
  const spriteChanged = JSON.stringify(fresh.sprite) !== JSON.stringify(video.sprite);
  const durationChanged = fresh.duration_ms !== video.duration_ms;
  video = { ...video, ...fresh };
  pins = [...(fresh.pins || pins)];

  const badge = $("publish-state");
  badge.textContent = video.published ? t("published") : t("draft");
  badge.classList.toggle("is-published", video.published);
  badge.classList.toggle("is-draft", !video.published);
  publishButton.hidden = video.published;
  unpublishButton.hidden = !video.published;
  const viewLink = $("view-link");
  viewLink.hidden = !video.published;
  viewLink.href = video.url;

  if (video.poster_url) {
    const cover = $("cover-preview");
    if (cover.getAttribute("src") !== video.poster_url) cover.src = video.poster_url;
    cover.hidden = false;
    if (videoEl.getAttribute("poster") !== video.poster_url) videoEl.poster = video.poster_url;
    if (coverWait && video.poster_url !== coverWait.poster) stopCoverWait(true);
  }
  applyProgress(video);
  applyAspect();
  if (spriteChanged || durationChanged) renderStrip();
  renderPins();
  drawPlayhead();
  ensurePlayer();
}

function ensurePlayer() {
  if (player || !video.playable || !(video.master_url || video.fallback_url)) return;
  videoEl.controls = true;
  player = attachPlayer(videoEl, video.master_url, video.fallback_url, {
    autoplay: false,
    muted: false,
    onFatal: () => {
      processing.box.hidden = false;
      processing.box.classList.remove("is-compact");
      processing.label.textContent = t("cannot_play");
      processing.bar.hidden = true;
    },
  });
  applyProgress(video);
}

let refreshing = null;
function refresh() {
  if (!refreshing) {
    refreshing = api("GET", urls.video)
      .then(applyVideo)
      .catch(() => {
        /* the next event or reconnection tries again */
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

followProgress({
  onProgress(payload) {
    if (payload.id !== video.id) return;
    const becamePlayable = payload.playable && !player;
    const changedState = payload.state !== video.state;
    video = { ...video, state: payload.state, progress: payload.progress, playable: payload.playable, error: payload.error };
    applyProgress(video);
    // master_url, sprite, poster... come with the full video.
    if (coverWait && payload.state === "ready") {
      // The poster job announces when it is done (even if the frame, hence the URL, is the same).
      refresh().then(() => stopCoverWait(true));
    } else if (becamePlayable || changedState || payload.state !== "processing") {
      refresh();
    }
  },
  onConnect(isReconnect) {
    if (isReconnect || video.state === "processing") refresh();
  },
});

applyAspect();
renderStrip();
renderPins();
applyProgress(video);
drawPlayhead(0);
ensurePlayer();

// Studio: resumable chunked uploads, and the list of my videos following their processing live.

import { ApiError, api, csrfToken, errorFromBody, pageLang, showError, t, tn } from "./api.js";
import { followProgress } from "./realtime.js";

const root = document.getElementById("studio");
const urls = {
  uploads: root.dataset.uploadsUrl,
  upload: (id) => root.dataset.uploadUrl.replace("__ID__", encodeURIComponent(id)),
  complete: (id) => root.dataset.completeUrl.replace("__ID__", encodeURIComponent(id)),
  videos: root.dataset.videosUrl,
  video: (id) => root.dataset.videoUrl.replace("__ID__", encodeURIComponent(id)),
  edit: (id) => root.dataset.editUrl.replace("__ID__", encodeURIComponent(id)),
};

const fileInput = document.getElementById("upload-file");
const dropZone = document.getElementById("upload-drop");
const fileInfo = document.getElementById("upload-file-info");
const startButton = document.getElementById("upload-start");
const cancelButton = document.getElementById("upload-cancel");
const progressRow = document.getElementById("upload-progress-row");
const progressBar = document.getElementById("upload-progress");
const statusEl = document.getElementById("upload-status");
const errorEl = document.getElementById("upload-error");
const list = document.getElementById("studio-videos");
const emptyEl = document.getElementById("studio-empty");
const rowTemplate = document.getElementById("video-row-template");

const MAX_RETRIES = 8;
const STORAGE_PREFIX = "liveshop.upload:";
const MB = 1024 * 1024;

// ---------------------------------------------------------------- the video list

function formatNumber(value, digits = 1) {
  try {
    return new Intl.NumberFormat(pageLang(), {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return value.toFixed(digits);
  }
}

function formatSize(bytes) {
  if (bytes >= 100 * MB) return t("size_mb", { n: formatNumber(bytes / MB, 0) });
  if (bytes >= MB) return t("size_mb", { n: formatNumber(bytes / MB, 1) });
  return t("size_kb", { n: formatNumber(Math.max(1, bytes / 1024), 0) });
}

function findRow(id) {
  return [...list.querySelectorAll(".video-row")].find((row) => row.dataset.videoId === id) || null;
}

function stateLabel(p) {
  if (p.state === "failed") return t("state_failed");
  if (p.state === "ready") return t("state_ready");
  return p.playable ? t("state_playable") : t("state_processing");
}

/** Processing state from a VideoOut or a video.progress event. */
function applyProgress(row, p) {
  row.dataset.state = p.state;
  row.dataset.playable = p.playable ? "true" : "false";
  const stateEl = row.querySelector(".video-state");
  stateEl.dataset.state = p.state;
  stateEl.textContent = stateLabel(p);
  const box = row.querySelector(".video-progress");
  box.hidden = p.state !== "processing";
  const value = Math.max(0, Math.min(100, Number(p.progress) || 0));
  box.querySelector("progress").value = value;
  box.querySelector(".video-progress-label").textContent = t("percent", { percent: value });
  const errorText = row.querySelector(".video-error");
  const failed = p.state === "failed";
  errorText.textContent = failed ? p.error || "" : "";
  errorText.hidden = !failed || !p.error;
}

/** Everything a row shows, from a full VideoOut. */
function applyVideo(row, video) {
  row.dataset.videoId = video.id;
  for (const link of row.querySelectorAll("a")) link.href = urls.edit(video.id);
  const img = row.querySelector(".video-row-poster img");
  const placeholder = row.querySelector(".video-row-poster .poster-placeholder");
  if (video.poster_url) {
    if (img.getAttribute("src") !== video.poster_url) img.src = video.poster_url;
    img.hidden = false;
    placeholder.hidden = true;
  } else {
    img.hidden = true;
    placeholder.hidden = false;
  }
  row.querySelector(".video-row-title").textContent = video.title || t("untitled");
  const badge = row.querySelector(".publish-badge");
  badge.textContent = video.published ? t("published") : t("draft");
  badge.classList.toggle("is-published", video.published);
  badge.classList.toggle("is-draft", !video.published);
  row.querySelector(".video-row-views").textContent = tn("views", video.view_count);
  applyProgress(row, video);
}

function upsertVideo(video, { prepend = true } = {}) {
  let row = findRow(video.id);
  if (!row) {
    row = rowTemplate.content.firstElementChild.cloneNode(true);
    if (prepend) list.prepend(row);
    else list.append(row);
  }
  applyVideo(row, video);
  emptyEl.hidden = list.children.length > 0;
  return row;
}

const refreshing = new Map(); // video id -> pending GET

function refreshVideo(id) {
  if (refreshing.has(id)) return refreshing.get(id);
  const pending = api("GET", urls.video(id))
    .then((video) => upsertVideo(video))
    .catch((err) => {
      if (err.status === 404) findRow(id)?.remove();
    })
    .finally(() => refreshing.delete(id));
  refreshing.set(id, pending);
  return pending;
}

async function refreshAll() {
  try {
    const page = await api("GET", `${urls.videos}?limit=100`);
    const ids = new Set(page.items.map((v) => v.id));
    for (const row of list.querySelectorAll(".video-row")) {
      if (!ids.has(row.dataset.videoId)) row.remove();
    }
    // Newest first, like the server's order.
    for (const video of [...page.items].reverse()) upsertVideo(video);
    emptyEl.hidden = list.children.length > 0;
  } catch {
    /* keep what is shown; the next event or reconnection tries again */
  }
}

followProgress({
  onProgress(payload) {
    const row = findRow(payload.id);
    if (!row) {
      refreshVideo(payload.id); // uploaded in another tab
      return;
    }
    const was = row.dataset.state;
    applyProgress(row, payload);
    // Poster, duration and the like come with the full video once processing ends.
    if (payload.state !== "processing" || was !== payload.state) refreshVideo(payload.id);
  },
  onConnect(isReconnect) {
    const busy = list.querySelector('.video-row[data-state="processing"]');
    if (isReconnect || busy) refreshAll();
  },
});

// ---------------------------------------------------------------- choosing a file

let chosen = null;

function storageKey(file) {
  return `${STORAGE_PREFIX}${file.name}:${file.size}:${file.lastModified}`;
}

function remembered(file) {
  try {
    return localStorage.getItem(storageKey(file));
  } catch {
    return null;
  }
}

function remember(file, id) {
  try {
    localStorage.setItem(storageKey(file), id);
  } catch {
    /* private mode: uploads still work, they just cannot resume after a reload */
  }
}

function forget(file) {
  try {
    localStorage.removeItem(storageKey(file));
  } catch {
    /* see remember() */
  }
}

function choose(file) {
  chosen = file || null;
  showError(errorEl, null);
  if (!chosen) {
    fileInfo.hidden = true;
    startButton.disabled = true;
    return;
  }
  const lines = [t("file_info", { name: chosen.name, size: formatSize(chosen.size) })];
  if (remembered(chosen)) lines.push(t("file_resumable"));
  const looksLikeVideo =
    !chosen.type || chosen.type.startsWith("video/") || /\.(mp4|mov|m4v|webm|mkv)$/i.test(chosen.name);
  if (!looksLikeVideo) lines.push(t("not_a_video"));
  fileInfo.textContent = lines.join(" ");
  fileInfo.hidden = false;
  startButton.disabled = current !== null;
}

fileInput.addEventListener("change", () => choose(fileInput.files[0]));

for (const name of ["dragenter", "dragover"]) {
  dropZone.addEventListener(name, (event) => {
    if (![...(event.dataTransfer?.types || [])].includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dropZone.classList.add("is-over");
  });
}
for (const name of ["dragleave", "dragend"]) {
  dropZone.addEventListener(name, (event) => {
    if (!dropZone.contains(event.relatedTarget)) dropZone.classList.remove("is-over");
  });
}
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("is-over");
  const files = event.dataTransfer?.files;
  if (!files || !files.length || current) return;
  try {
    fileInput.files = files;
  } catch {
    /* older browsers: keep our own reference */
  }
  choose(files[0]);
});

// ---------------------------------------------------------------- uploading

let current = null; // { file, id, chunkSize, xhr, cancelled, wake, samples }

function setUploading(active) {
  startButton.disabled = active || !chosen;
  fileInput.disabled = active;
  cancelButton.hidden = !active;
  dropZone.classList.toggle("is-busy", active);
  if (active) progressRow.hidden = false;
}

function setStatus(text) {
  statusEl.textContent = text;
}

function percentOf(bytes, total) {
  return total ? Math.floor((bytes / total) * 100) : 0;
}

function reportProgress(upload, sent) {
  const total = upload.file.size;
  progressBar.max = total;
  progressBar.value = sent;
  const now = performance.now();
  const samples = upload.samples;
  samples.push({ now, sent });
  while (samples.length > 2 && now - samples[0].now > 3000) samples.shift();
  const first = samples[0];
  const elapsed = (now - first.now) / 1000;
  const percent = percentOf(sent, total);
  if (elapsed < 0.5 || sent <= first.sent) {
    setStatus(t("uploading_percent", { percent })); // no meaningful speed yet
    return;
  }
  const speed = (sent - first.sent) / elapsed / MB;
  setStatus(t("uploading", { percent, speed: formatNumber(speed) }));
}

function cancelledError() {
  return new ApiError(t("cancelled"), { code: "cancelled" });
}

function sleep(upload, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    upload.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

function putChunk(upload, offset, blob) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    upload.xhr = xhr;
    xhr.open("PUT", urls.upload(upload.id));
    xhr.setRequestHeader("Upload-Offset", String(offset));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.withCredentials = true;
    xhr.upload.addEventListener("progress", (event) => {
      reportProgress(upload, offset + event.loaded);
    });
    xhr.addEventListener("load", () => {
      upload.xhr = null;
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
      else reject(errorFromBody(xhr.status, data));
    });
    const network = () => {
      upload.xhr = null;
      reject(new ApiError(t("error_network"), { status: 0, code: "network" }));
    };
    xhr.addEventListener("error", network);
    xhr.addEventListener("timeout", network);
    xhr.addEventListener("abort", () => {
      upload.xhr = null;
      reject(cancelledError());
    });
    xhr.send(blob);
  });
}

function retriable(err) {
  return (
    err.code === "network" ||
    err.code === "wrong_offset" ||
    err.status === 400 || // "the chunk arrived incomplete"
    err.status === 408 ||
    err.status === 429 ||
    err.status >= 500
  );
}

/** Send chunks from offset until the server has the whole file. */
async function sendChunks(upload, offset) {
  const { file } = upload;
  let failures = 0;
  reportProgress(upload, offset);
  while (offset < file.size) {
    if (upload.cancelled) throw cancelledError();
    const end = Math.min(file.size, offset + upload.chunkSize);
    try {
      const info = await putChunk(upload, offset, file.slice(offset, end));
      offset = info.received;
      failures = 0;
      reportProgress(upload, offset);
    } catch (err) {
      if (upload.cancelled) throw cancelledError();
      if (err.code === "upload_finished") return;
      failures += 1;
      if (!retriable(err) || failures > MAX_RETRIES) throw err;
      const delay = Math.min(15000, 1000 * 2 ** (failures - 1));
      setStatus(t("retrying", { seconds: Math.round(delay / 1000) }));
      await sleep(upload, delay);
      if (upload.cancelled) throw cancelledError();
      try {
        const info = await api("GET", urls.upload(upload.id));
        if (info.video_id) return;
        offset = info.received;
        upload.samples = [];
        reportProgress(upload, offset);
      } catch (stateErr) {
        if (stateErr.status === 404) throw stateErr;
        // Still unreachable: the next PUT fails fast and we back off again.
      }
    }
  }
}

async function startUpload() {
  const file = chosen;
  if (!file) {
    showError(errorEl, new ApiError(t("choose_file")));
    return;
  }
  if (current) return;
  const upload = { file, id: null, chunkSize: 0, xhr: null, cancelled: false, wake: null, samples: [] };
  current = upload;
  showError(errorEl, null);
  setUploading(true);
  setStatus(t("starting"));
  progressBar.removeAttribute("value"); // indeterminate until we know where we stand
  try {
    let info = null;
    const savedId = remembered(file);
    if (savedId) {
      try {
        info = await api("GET", urls.upload(savedId));
        if (info.size !== file.size) info = null;
      } catch (err) {
        if (err.status !== 404) throw err;
        info = null;
      }
      if (!info) forget(file);
    }
    if (!info) {
      info = await api("POST", urls.uploads, { filename: file.name, size: file.size });
      upload.id = info.id;
      if (upload.cancelled) {
        api("DELETE", urls.upload(info.id)).catch(() => {});
        throw cancelledError();
      }
      remember(file, info.id);
    } else if (info.received > 0) {
      setStatus(t("resuming", { percent: percentOf(info.received, file.size) }));
    }
    upload.id = info.id;
    upload.chunkSize = Math.max(64 * 1024, info.chunk_size || 8 * MB);
    if (upload.cancelled) throw cancelledError();
    if (!info.video_id) await sendChunks(upload, info.received);
    if (upload.cancelled) throw cancelledError();

    setStatus(t("checking"));
    cancelButton.hidden = true; // the file is all there: nothing left to cancel
    progressBar.removeAttribute("value");
    const video = await api("POST", urls.complete(upload.id));
    forget(file);
    upsertVideo(video);
    progressBar.max = 100;
    progressBar.value = 100;
    setStatus(t("done"));
    fileInput.value = "";
    choose(null);
    // Next come the title, the cover and the pins: the editor shows the processing as it goes.
    window.location.assign(urls.edit(video.id));
  } catch (err) {
    if (upload.cancelled || err.code === "cancelled") return;
    // A rejected file (not a video...) or a vanished upload cannot be resumed.
    if (err.status === 404 || (err.code && err.code.startsWith("video_"))) forget(file);
    progressBar.max = 100;
    progressBar.value = 0;
    setStatus("");
    progressRow.hidden = true;
    showError(errorEl, err);
  } finally {
    if (current === upload) current = null;
    setUploading(false);
  }
}

async function cancelUpload() {
  const upload = current;
  if (!upload) return;
  upload.cancelled = true;
  if (upload.xhr) upload.xhr.abort();
  if (upload.wake) upload.wake();
  forget(upload.file);
  current = null;
  setUploading(false);
  progressBar.max = 100;
  progressBar.value = 0;
  setStatus(t("cancelled"));
  if (upload.id) {
    try {
      await api("DELETE", urls.upload(upload.id));
    } catch (err) {
      if (err.status !== 404) showError(errorEl, err);
    }
  }
}

startButton.addEventListener("click", startUpload);
cancelButton.addEventListener("click", cancelUpload);
if (fileInput.files && fileInput.files[0]) choose(fileInput.files[0]); // restored by the browser

// The host's control room: going live from the browser (camera and ingest: live-broadcast.js)
// or from OBS (RTMP URL and a stream key shown once), the shelf with pin / unpin, flash sales,
// chat with moderation, chat settings, moderators, ending the live, and the dashboard.

import { api, flashStatus, showError, t } from "./api.js";
import { BrowserBroadcast, mediaAvailable } from "./live-broadcast.js";
import { ChatList, connectRoom, formatMoney, lt, toMinor } from "./live-common.js";
import { renderDashboard } from "./live-dashboard.js";

const root = document.getElementById("live-control");
const ROOM = root.dataset.room;
const API = root.dataset.api;
const data = JSON.parse(document.getElementById("live-data").textContent);
const MAX_PINS = data.max_pins;
const $ = (id) => document.getElementById(id);

const state = {
  room: data.snapshot.room,
  pins: data.snapshot.pins.pins,
  pinsVersion: data.snapshot.pins.version,
  busy: new Set(), // product ids with a pin request under way
};

// ---------------------------------------------------------------- room state

function setRoomState(next) {
  state.room = { ...state.room, state: next };
  root.dataset.state = next;
  const badge = $("room-state-badge").querySelector(".live-state");
  badge.dataset.state = next;
  badge.textContent = t(`state_${next}`);
  $("go-live").hidden = next === "live";
  $("go-live").disabled = next === "ended";
  $("end-live").hidden = next === "ended";
  $("rotate-key").disabled = next === "ended";
  $("on-air").hidden = !(next === "live" && camera.sending);
  if (next !== "scheduled") $("room-schedule").textContent = "";
  $("ended-box").hidden = next !== "ended";
  if (next === "ended") {
    $("end-confirm").hidden = true;
    flashStatus($("broadcast-status"), t("ended"), 10000);
    // Nobody watches an ended show and nobody can chat in it: say so instead of the last figures.
    showViewers(0);
    for (const control of $("chat-form").elements) control.disabled = true;
  }
}

// Pages still open on an ended room count as connected, not as watching the show.
function showViewers(count) {
  $("stat-viewers").textContent = String(state.room.state === "ended" ? 0 : count);
}

// The replay is made after the end: its editor link appears when the job has published it.
function showReplay(videoId) {
  if (!videoId) return;
  $("control-replay-link").href = root.dataset.editUrl.replace("__ID__", encodeURIComponent(videoId));
  $("control-replay-ready").hidden = false;
  $("control-replay-pending").hidden = true;
}

// ---------------------------------------------------------------- camera and browser ingest

const camera = new BrowserBroadcast(
  {
    preview: $("camera-preview"),
    cameraSelect: $("camera-select"),
    micSelect: $("mic-select"),
    previewEmpty: $("preview-empty"),
    cameraToggle: $("camera-toggle"),
    status: $("broadcast-status"),
    error: $("broadcast-error"),
    onAir: $("on-air"),
  },
  root.dataset.ingestUrl,
);

function source() {
  return document.querySelector('input[name="source"]:checked').value;
}

function syncSource() {
  const browser = source() === "browser";
  $("device-pickers").hidden = !browser;
  $("camera-toggle").hidden = !browser;
}
for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener("change", syncSource);
}

$("go-live").addEventListener("click", async () => {
  const button = $("go-live");
  showError($("broadcast-error"), null);
  button.disabled = true;
  try {
    const browser = source() === "browser";
    if (browser && !camera.stream && !(await camera.startCamera())) return;
    if (state.room.state === "scheduled") {
      $("broadcast-status").textContent = t("going_live");
      const room = await api("POST", `${API}/start`);
      state.room = room;
      setRoomState(room.state);
    }
    if (browser) {
      camera.start();
    } else {
      $("broadcast-status").textContent = t("on_air_obs");
    }
  } catch (error) {
    showError($("broadcast-error"), error);
    $("broadcast-status").textContent = "";
  } finally {
    button.disabled = state.room.state === "ended";
  }
});

$("end-live").addEventListener("click", () => {
  $("end-confirm").hidden = false;
  $("end-confirm-no").focus();
});
$("end-confirm-no").addEventListener("click", () => {
  $("end-confirm").hidden = true;
  $("end-live").focus();
});
$("end-confirm-yes").addEventListener("click", async () => {
  showError($("broadcast-error"), null);
  $("broadcast-status").textContent = t("ending");
  camera.stop(true);
  try {
    const room = await api("POST", `${API}/end`);
    state.room = room;
    setRoomState(room.state);
    camera.stopCamera();
    loadDashboard();
  } catch (error) {
    // The End sent over the camera's socket may have ended the room first: then it is ended.
    const room = error.status === 409 ? await api("GET", API).catch(() => null) : null;
    if (room && room.state === "ended") {
      state.room = room;
      setRoomState(room.state);
      camera.stopCamera();
      loadDashboard();
    } else {
      showError($("broadcast-error"), error);
    }
  }
});

window.addEventListener("beforeunload", () => {
  if (camera.sending) camera.stop(false);
});

// ---------------------------------------------------------------- OBS: stream key

$("rotate-key").addEventListener("click", async () => {
  showError($("key-error"), null);
  try {
    const result = await api("POST", `${API}/stream-key`);
    const input = $("stream-key");
    input.value = result.stream_key;
    input.type = "text";
    input.focus();
    input.select();
    $("key-status").textContent = t("key_made");
  } catch (error) {
    showError($("key-error"), error);
  }
});

for (const button of document.querySelectorAll(".copy-button")) {
  button.addEventListener("click", async () => {
    const input = document.querySelector(button.dataset.copy);
    if (!input.value) return;
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    flashStatus($("key-status"), t("copied"));
  });
}

// ---------------------------------------------------------------- shelf and pins

const shelfList = $("control-shelf");
const rowTemplate = $("shelf-row-template");

function pinOf(productId) {
  return state.pins.find((pin) => pin.product.id === productId);
}

function renderShelf() {
  const shelf = state.room.shelf || [];
  shelfList.replaceChildren(
    ...shelf.map((product) => {
      const row = rowTemplate.content.firstElementChild.cloneNode(true);
      row.dataset.productId = String(product.id);
      const pin = pinOf(product.id);
      row.classList.toggle("is-pinned", Boolean(pin));
      if (product.image_url) {
        const img = row.querySelector("img.shelf-image");
        img.src = product.image_url;
        img.hidden = false;
        row.querySelector(".img-placeholder").hidden = true;
      }
      row.querySelector(".shelf-title").textContent = product.title;
      row.querySelector(".shelf-price").textContent = product.price_display;
      const flashBadge = row.querySelector(".shelf-flash");
      if (pin && pin.flash && pin.flash.phase !== "over") {
        flashBadge.hidden = false;
        flashBadge.textContent = t("flash_on", { price: pin.flash.price_display, n: pin.flash.remaining });
      }
      const button = row.querySelector(".shelf-pin");
      button.textContent = pin ? t("unpin") : t("pin");
      button.classList.toggle("primary", !pin);
      button.setAttribute("aria-pressed", String(Boolean(pin)));
      button.setAttribute("aria-label", t(pin ? "unpin_label" : "pin_label", { title: product.title }));
      button.disabled = state.busy.has(product.id) || state.room.state === "ended";
      button.addEventListener("click", () => togglePin(product));
      return row;
    }),
  );
  $("shelf-empty").hidden = shelf.length > 0;
  $("pin-count").textContent = t("pinned_count", { n: state.pins.length, max: MAX_PINS });
  renderFlashProducts();
}

function setPins(payload) {
  if (payload.version < state.pinsVersion) return;
  state.pinsVersion = payload.version;
  state.pins = payload.pins;
  renderShelf();
}

async function togglePin(product) {
  showError($("pin-error"), null);
  const pinned = Boolean(pinOf(product.id));
  state.busy.add(product.id);
  renderShelf();
  try {
    const payload = pinned
      ? await api("DELETE", `${API}/pins/${product.id}`)
      : await api("POST", `${API}/pins`, { product_id: product.id });
    setPins(payload);
  } catch (error) {
    showError($("pin-error"), error); // e.g. "At most 3 products can be pinned at once"
  } finally {
    state.busy.delete(product.id);
    renderShelf();
    const button = shelfList.querySelector(`[data-product-id="${product.id}"] .shelf-pin`);
    if (button) button.focus();
  }
}

// ---------------------------------------------------------------- flash sales

const flashProduct = $("flash-product");

function renderFlashProducts() {
  const current = flashProduct.value;
  flashProduct.replaceChildren(
    ...state.pins.map((pin) => {
      const option = document.createElement("option");
      option.value = String(pin.product.id);
      option.textContent = `${pin.product.title} (${pin.product.price_display})`;
      return option;
    }),
  );
  if (!state.pins.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = t("no_pinned");
    flashProduct.append(option);
  }
  if ([...flashProduct.options].some((o) => o.value === current)) flashProduct.value = current;
  renderFlashBounds();
  $("flash-start").disabled = !state.pins.length || state.room.state === "ended";
}

// The seller's bounds on a product the host does not sell: the server refuses outside them.
function renderFlashBounds() {
  const bounds = (data.flash_bounds || {})[flashProduct.value];
  const text = $("flash-bounds");
  if (!bounds) text.textContent = "";
  else if (bounds.own) text.textContent = t("flash_own");
  else if (bounds.scope !== "all") text.textContent = t("flash_not_allowed");
  else {
    text.textContent = t("flash_bounds", {
      price: bounds.min_price_display,
      n: bounds.max_quantity,
      minutes: Math.floor(bounds.max_seconds / 60),
    });
  }
}
flashProduct.addEventListener("change", renderFlashBounds);

$("flash-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = $("flash-error");
  const pin = pinOf(Number(flashProduct.value));
  if (!pin) return;
  const price = toMinor($("flash-price").value, pin.product.currency);
  if (price === null) {
    showError(errorBox, { message: t("bad_price") }, { inputs: { price: $("flash-price") } });
    $("flash-price").setAttribute("aria-invalid", "true");
    $("flash-price").focus();
    return;
  }
  const limit = $("flash-limit").value;
  try {
    const payload = await api("POST", `${API}/flash-sales`, {
      product_id: pin.product.id,
      price_minor: price,
      duration_seconds: Math.round(Number($("flash-duration").value) * 60),
      quantity: Number($("flash-quantity").value),
      per_buyer_limit: limit ? Number(limit) : null,
    });
    showError(errorBox, null, { inputs: { price: $("flash-price") } });
    setPins(payload);
    flashStatus($("flash-status"), t("flash_started"));
  } catch (error) {
    showError(errorBox, error, {
      labels: {
        price_minor: $("flash-price").labels[0].textContent.trim(),
        quantity: $("flash-quantity").labels[0].textContent.trim(),
        duration_seconds: $("flash-duration").labels[0].textContent.trim(),
      },
      inputs: {
        price_minor: $("flash-price"),
        quantity: $("flash-quantity"),
        per_buyer_limit: $("flash-limit"),
        duration_seconds: $("flash-duration"),
      },
    });
  }
});

// ---------------------------------------------------------------- chat and moderation

const MUTE_MINUTES = [1, 5, 10, 30, 60, 1440];

function actionButton(label, aria, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link";
  button.textContent = label;
  button.setAttribute("aria-label", aria);
  button.addEventListener("click", onClick);
  return button;
}

async function moderate(action, message, done) {
  showError($("chat-error"), null);
  try {
    await action();
    if (done) flashStatus($("settings-status"), done);
    if (done) $("chat-announcer").textContent = done;
  } catch (error) {
    showError($("chat-error"), error);
  }
}

function moderationFor(message) {
  if (message.author_role === "creator") return null;
  const name = message.author.display_name;
  const userId = message.author.id;
  const box = document.createElement("span");
  box.className = "chat-actions";
  box.append(
    actionButton(lt("delete"), lt("delete_label", { name }), () =>
      moderate(async () => {
        await api("DELETE", `${API}/chat/${message.id}`);
        chat.remove([message.id]);
      }, message),
    ),
  );
  if (message.author_role === "viewer") {
    const select = document.createElement("select");
    select.className = "mute-minutes";
    select.setAttribute("aria-label", lt("mute_for"));
    for (const minutes of MUTE_MINUTES) {
      const option = document.createElement("option");
      option.value = String(minutes);
      option.textContent = lt("minutes_n", { n: minutes });
      select.append(option);
    }
    select.value = "5";
    box.append(
      select,
      actionButton(lt("mute"), lt("mute_label", { name }), () =>
        moderate(
          () => api("POST", `${API}/mutes`, { user_id: userId, seconds: Number(select.value) * 60 }),
          message,
          lt("muted_done", { name }),
        ),
      ),
      actionButton(lt("ban"), lt("ban_label", { name }), () =>
        moderate(() => api("POST", `${API}/bans`, { user_id: userId }), message, lt("banned_done", { name })),
      ),
      actionButton(lt("make_moderator"), lt("make_moderator_label", { name }), () =>
        moderate(
          async () => renderModerators(await api("POST", `${API}/moderators`, { user_id: userId })),
          message,
          lt("moderator_done", { name }),
        ),
      ),
    );
  }
  return box;
}

const chat = new ChatList($("chat-list"), $("chat-announcer"), { max: 300, moderation: moderationFor });

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  showError($("chat-error"), null);
  try {
    const message = await api("POST", `${API}/chat`, { text });
    input.value = "";
    chat.add([message], { announce: false });
  } catch (error) {
    showError($("chat-error"), error);
  }
});

$("settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError($("settings-error"), null);
  const keywords = $("keyword-filter")
    .value.split("\n")
    .map((k) => k.trim())
    .filter(Boolean);
  try {
    const settings = await api("PUT", `${API}/settings`, {
      slow_mode_seconds: Number($("slow-mode").value) || 0,
      keyword_filter: keywords,
    });
    $("keyword-filter").value = (settings.keyword_filter || []).join("\n");
    flashStatus($("settings-status"), t("settings_saved"));
  } catch (error) {
    showError($("settings-error"), error, {
      inputs: { slow_mode_seconds: $("slow-mode"), keyword_filter: $("keyword-filter") },
    });
  }
});

function renderModerators(list) {
  const items = list.items || [];
  $("moderator-list").replaceChildren(
    ...items.map((user) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = user.display_name;
      const remove = actionButton(t("remove"), `${t("remove")} ${user.display_name}`, async () => {
        try {
          await api("DELETE", `${API}/moderators/${user.id}`);
          renderModerators(await api("GET", `${API}/moderators`));
        } catch (error) {
          showError($("settings-error"), error);
        }
      });
      li.append(name, " ", remove);
      return li;
    }),
  );
  $("moderators-empty").hidden = items.length > 0;
}

// ---------------------------------------------------------------- dashboard

let dashboardTimer = 0;
async function loadDashboard() {
  clearTimeout(dashboardTimer);
  try {
    const dashboard = await api("GET", `${API}/dashboard`);
    renderDashboard(dashboard, { formatMoney, t });
  } catch {
    /* shown again at the next poll */
  }
  if (state.room.state !== "ended") dashboardTimer = setTimeout(loadDashboard, document.hidden ? 30000 : 5000);
}

// ---------------------------------------------------------------- the connection

connectRoom(ROOM, {
  snapshot: (snapshot) => {
    state.room = snapshot.room;
    setRoomState(snapshot.room.state);
    setPins(snapshot.pins);
    chat.reset(snapshot.chat);
    showViewers(snapshot.viewers);
  },
  pins: (payload) => setPins(payload),
  chat: (messages) => chat.add(messages),
  chatDeleted: (ids) => chat.remove(ids),
  counters: (payload) => {
    if (typeof payload.viewers === "number") showViewers(payload.viewers);
    if (typeof payload.hearts === "number") $("stat-hearts").textContent = String(payload.hearts);
  },
  state: (payload) => setRoomState(payload.state),
  replay: (payload) => showReplay(payload.video_id),
  settings: (payload) => {
    $("slow-mode").value = String(payload.slow_mode_seconds);
  },
  status: (status) => {
    $("socket-status").textContent = status === "online" ? "" : t("offline");
  },
});

syncSource();
setRoomState(state.room.state);
renderShelf();
chat.reset(data.snapshot.chat);
api("GET", `${API}/moderators`).then(renderModerators, () => {});
loadDashboard();
if (mediaAvailable()) camera.listDevices().catch(() => {});

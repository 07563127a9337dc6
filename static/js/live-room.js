// The viewer's live room: the player, LIVE badge and jump-to-live, viewers, hearts, chat, the
// pinned product cards (Buy opens the checkout drawer over the playing video), the shelf, flash
// sale countdowns on the server's clock, and the upcoming / waiting / ended states.
// Reconnects re-join and redraw from the snapshot.

import { api, compactNumber, prefersReducedMotion, t } from "./api.js";
import { openCheckout } from "./checkout.js";
import {
  ChatList,
  clock,
  connectRoom,
  formatDuration,
  formatLocal,
  lt,
  parseUtc,
} from "./live-common.js";
import { createLivePlayer, lowLatencySupported } from "./live-player.js";
import { playSafely } from "./player.js";
import { ratingSpan, showRating } from "./rating.js";

const root = document.getElementById("live-room");
const ROOM = root.dataset.room;
const API = root.dataset.api;
const data = JSON.parse(document.getElementById("live-data").textContent);
const $ = (id) => document.getElementById(id);

const video = $("live-video");
const frame = $("live-frame");
const pinStack = $("live-pins");
const pinTemplate = $("pin-card-template");
const chatForm = $("chat-form");
const chatInput = $("chat-input");
const chatNotice = $("chat-notice");

const state = {
  room: data.snapshot.room,
  permissions: data.snapshot.permissions,
  pins: [], // LivePinOut
  flashRemaining: new Map(), // flash id -> remaining (from the counters)
  flashOver: new Set(),
  shelfFlashes: new Map(), // product id -> its flash sale on now or next (LiveFlashOut)
  hearts: data.snapshot.hearts,
  pendingHearts: 0,
  slowMode: data.snapshot.settings.slow_mode_seconds,
};

const chat = new ChatList($("chat-list"), $("chat-announcer"), {
  max: 120,
  moderation: (message) => moderationFor(message),
});

// ---------------------------------------------------------------- player and states

const player = createLivePlayer(video, {
  hlsUrl: root.dataset.hlsUrl,
  flvUrl: root.dataset.flvUrl,
  lowLatency: true,
  onState: (playerState) => {
    frame.classList.toggle("is-waiting", playerState === "waiting");
    $("curtain-waiting").hidden = !(playerState === "waiting" && state.room.state === "live");
    if (playerState === "error") {
      frame.classList.add("is-broken");
      frame.dataset.message = t("cannot_play");
    }
  },
  onMode: (mode) => {
    const toggle = $("latency-toggle");
    toggle.hidden = !(lowLatencySupported() && mode !== "none" && mode !== "native");
    toggle.setAttribute("aria-pressed", String(mode === "flv"));
    toggle.textContent = mode === "flv" ? t("low_latency_on") : t("low_latency_off");
  },
});

function showRoomState() {
  const s = state.room.state;
  root.dataset.state = s;
  $("live-badge").hidden = s !== "live";
  $("curtain-upcoming").hidden = s !== "scheduled";
  $("curtain-ended").hidden = s !== "ended";
  if (s === "live") player.start();
  else player.stop();
  if (s !== "live") $("curtain-waiting").hidden = true;
  if (s === "ended" && chatForm) chatForm.hidden = true;
}

$("latency-toggle").addEventListener("click", (event) => {
  const on = event.currentTarget.getAttribute("aria-pressed") !== "true";
  player.setLowLatency(on);
});

$("jump-live").addEventListener("click", () => player.jumpToLive());

setInterval(() => {
  // Behind the live edge (paused, or stalled and resumed): offer the jump.
  const behind = state.room.state === "live" && player.mode !== "none" &&
    (video.paused || player.behindLive() > 3);
  $("jump-live").hidden = !behind;
}, 1000);

// Sound: muted autoplay first, one tap to unmute (the browser's rule).
const muteButton = $("live-mute");
function syncMute() {
  muteButton.classList.toggle("is-muted", video.muted);
  muteButton.querySelector(".mute-label").textContent = video.muted ? t("unmute") : t("mute");
}
muteButton.addEventListener("click", () => {
  video.muted = !video.muted;
  if (!video.muted && video.paused) playSafely(video);
});
video.addEventListener("volumechange", syncMute);
syncMute();

// ---------------------------------------------------------------- viewers and hearts

function setViewers(n) {
  $("viewer-count").textContent = compactNumber(n);
}

function setHearts(n) {
  state.hearts = n;
  $("heart-count").textContent = compactNumber(n);
}

function floatHeart() {
  if (prefersReducedMotion()) return;
  const heart = document.createElement("span");
  heart.className = "floating-heart";
  heart.style.setProperty("--drift", `${Math.round(Math.random() * 40 - 20)}px`);
  heart.style.setProperty("--hue", `${Math.round(330 + Math.random() * 40)}`);
  heart.textContent = "♥";
  $("heart-burst").append(heart);
  heart.addEventListener("animationend", () => heart.remove());
}

$("heart-button").addEventListener("click", () => {
  state.pendingHearts += 1;
  setHearts(state.hearts + 1); // shown at once; the server's total corrects it on its next tick
  floatHeart();
});

// Taps are sent together, a few times a second; the server coalesces everyone's into a tick.
setInterval(async () => {
  if (!state.pendingHearts) return;
  const count = Math.min(state.pendingHearts, 50);
  state.pendingHearts -= count;
  if (connection && connection.connected()) {
    await connection.emit("live.heart", { count });
  } else {
    api("POST", `${API}/hearts`, { count }).catch(() => {});
  }
}, 400);

// ---------------------------------------------------------------- pins and the shelf

function flashPhase(flash) {
  if (state.flashOver.has(flash.id)) return "over";
  const now = clock.now();
  const remaining = state.flashRemaining.has(flash.id) ? state.flashRemaining.get(flash.id) : flash.remaining;
  if (now >= parseUtc(flash.ends_at)) return "over";
  if (remaining <= 0) return "sold_out";
  return now < parseUtc(flash.starts_at) ? "upcoming" : "on";
}

// A pin shows its product's flash sale, even one scheduled before the pin or outside the room.
function flashOf(product, pinFlash) {
  return pinFlash || state.shelfFlashes.get(product.id) || null;
}

function renderFlash(card, pin) {
  const box = card.querySelector(".pin-flash");
  const flash = flashOf(pin.product, pin.flash);
  const priceEl = card.querySelector(".pin-price");
  const listEl = card.querySelector(".pin-list-price");
  if (!flash) {
    box.hidden = true;
    priceEl.textContent = pin.product.price_display;
    listEl.hidden = true;
    return;
  }
  const phase = flashPhase(flash);
  const remaining = state.flashRemaining.has(flash.id) ? state.flashRemaining.get(flash.id) : flash.remaining;
  box.hidden = false;
  card.dataset.flashPhase = phase;
  const now = clock.now();
  const countdown = card.querySelector(".pin-countdown");
  if (phase === "upcoming") countdown.textContent = t("starts_in", { time: formatDuration(parseUtc(flash.starts_at) - now) });
  else if (phase === "on") countdown.textContent = t("ends_in", { time: formatDuration(parseUtc(flash.ends_at) - now) });
  else countdown.textContent = t("flash_over");
  card.querySelector(".pin-remaining").textContent =
    remaining > 0 ? t("remaining", { n: remaining }) : t("sold_out");
  const onSale = phase === "on";
  priceEl.textContent = onSale ? flash.price_display : pin.product.price_display;
  listEl.hidden = !onSale;
  listEl.textContent = pin.product.price_display;
}

function clickProduct(productId) {
  if (connection && connection.connected()) connection.emit("live.click", { product_id: productId });
  else api("POST", `${API}/clicks`, { product_id: productId }).catch(() => {});
}

function buy(product, event) {
  if (event) event.stopPropagation(); // the player underneath keeps playing
  clickProduct(product.id);
  openCheckout({ productId: product.id, sourceKind: "live", sourceKey: ROOM });
}

function pinCard(pin) {
  const card = pinTemplate.content.firstElementChild.cloneNode(true);
  const product = pin.product;
  card.dataset.pinId = String(pin.id);
  card.dataset.productId = String(product.id);
  const link = card.querySelector(".pin-link");
  link.href = product.url;
  link.target = "_blank";
  link.rel = "noopener";
  link.setAttribute("aria-label", t("product_label", { title: product.title, price: product.price_display }));
  link.addEventListener("click", () => clickProduct(product.id));
  const img = card.querySelector("img.pin-image");
  if (product.image_url) {
    img.src = product.image_url;
    img.hidden = false;
    card.querySelector(".img-placeholder").hidden = true;
  }
  card.querySelector(".pin-title").textContent = product.title;
  showRating(card.querySelector(".pin-rating"), product);
  const buyButton = card.querySelector(".pin-buy");
  buyButton.setAttribute("aria-label", t("buy_label", { title: product.title }));
  buyButton.addEventListener("click", (event) => buy(product, event));
  renderFlash(card, pin);
  return card;
}

function renderPins(payload, { announce = true } = {}) {
  const pins = payload.pins;
  state.shelfFlashes = new Map((payload.shelf_flashes || []).map((f) => [f.product_id, f]));
  for (const pin of pins) if (pin.flash) state.shelfFlashes.set(pin.product.id, pin.flash);
  const before = new Set(state.pins.map((p) => p.id));
  state.pins = pins;
  const cards = new Map([...pinStack.children].map((el) => [Number(el.dataset.pinId), el]));
  const keep = [];
  for (const pin of pins) {
    let card = cards.get(pin.id);
    if (card) {
      const fresh = pinCard(pin); // a flash sale may have started: redraw in place
      card.replaceWith(fresh);
      card = fresh;
    } else {
      card = pinCard(pin);
    }
    keep.push(card);
  }
  pinStack.replaceChildren(...keep);
  const added = pins.filter((p) => !before.has(p.id));
  if (announce && added.length) {
    $("chat-announcer").textContent = t("pinned_now", { title: added[added.length - 1].product.title });
  }
  renderShelf();
}

function tickFlash() {
  for (const card of pinStack.children) {
    const pin = state.pins.find((p) => p.id === Number(card.dataset.pinId));
    if (pin && flashOf(pin.product, pin.flash)) renderFlash(card, pin);
  }
  for (const li of $("live-shelf").children) {
    const product = (state.room.shelf || []).find((p) => p.id === Number(li.dataset.productId));
    if (product) renderShelfFlash(li, product);
  }
}
setInterval(tickFlash, 500);

function renderShelf() {
  const list = $("live-shelf");
  const pinned = new Set(state.pins.map((p) => p.product.id));
  const items = state.room.shelf || [];
  list.replaceChildren(
    ...items.map((product) => {
      const li = document.createElement("li");
      li.className = "live-shelf-item";
      li.dataset.productId = String(product.id);
      const link = document.createElement("a");
      link.href = product.url;
      link.className = "live-shelf-link";
      link.target = "_blank";
      link.rel = "noopener";
      if (product.image_url) {
        const img = document.createElement("img");
        img.src = product.image_url;
        img.alt = "";
        img.loading = "lazy";
        link.append(img);
      } else {
        const span = document.createElement("span");
        span.className = "img-placeholder";
        span.setAttribute("aria-hidden", "true");
        link.append(span);
      }
      const text = document.createElement("span");
      text.className = "live-shelf-text";
      const title = document.createElement("span");
      title.className = "live-shelf-title";
      title.textContent = product.title;
      const price = document.createElement("span");
      price.className = "price shelf-price";
      price.textContent = product.price_display;
      const listPrice = document.createElement("s");
      listPrice.className = "shelf-list-price";
      listPrice.hidden = true;
      const flashBox = document.createElement("span");
      flashBox.className = "shelf-flash";
      flashBox.hidden = true;
      const badge = document.createElement("span");
      badge.className = "badge flash-badge";
      badge.textContent = t("flash_badge");
      const countdown = document.createElement("span");
      countdown.className = "shelf-countdown";
      flashBox.append(badge, " ", countdown);
      const prices = document.createElement("span");
      prices.className = "pin-prices";
      prices.append(price, " ", listPrice);
      text.append(title, prices, ratingSpan(product), flashBox);
      if (pinned.has(product.id)) {
        const badge = document.createElement("span");
        badge.className = "badge live-state";
        badge.dataset.state = "live";
        badge.textContent = t("pinned");
        text.append(badge);
      }
      link.append(text);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button primary";
      button.textContent = t("buy");
      button.setAttribute("aria-label", t("buy_label", { title: product.title }));
      button.addEventListener("click", (event) => {
        $("shelf-dialog").close();
        buy(product, event);
      });
      li.append(link, button);
      renderShelfFlash(li, product);
      return li;
    }),
  );
  $("live-shelf-empty").hidden = items.length > 0;
  $("shelf-count").textContent = String(items.length);
}

// The shelf shows a product's flash price, badge and countdown like its pin card does.
function renderShelfFlash(li, product) {
  const flash = state.shelfFlashes.get(product.id);
  const box = li.querySelector(".shelf-flash");
  const price = li.querySelector(".shelf-price");
  const listPrice = li.querySelector(".shelf-list-price");
  const phase = flash ? flashPhase(flash) : "none";
  li.dataset.flashPhase = phase;
  box.hidden = phase !== "on" && phase !== "upcoming";
  const onSale = phase === "on";
  price.textContent = onSale ? flash.price_display : product.price_display;
  listPrice.hidden = !onSale;
  listPrice.textContent = product.price_display;
  if (box.hidden) return;
  const now = clock.now();
  li.querySelector(".shelf-countdown").textContent = onSale
    ? t("ends_in", { time: formatDuration(parseUtc(flash.ends_at) - now) })
    : t("starts_in", { time: formatDuration(parseUtc(flash.starts_at) - now) });
}

const shelfDialog = $("shelf-dialog");
$("shelf-open").addEventListener("click", () => {
  if (typeof shelfDialog.showModal === "function") shelfDialog.showModal();
  else shelfDialog.setAttribute("open", "");
});
$("shelf-close").addEventListener("click", () => shelfDialog.close());
shelfDialog.addEventListener("click", (event) => {
  if (event.target === shelfDialog) shelfDialog.close();
});

// ---------------------------------------------------------------- chat

function moderationFor(message) {
  if (!state.permissions.can_moderate || message.author_role === "creator") return null;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link chat-delete";
  button.textContent = lt("delete");
  button.setAttribute("aria-label", lt("delete_label", { name: message.author.display_name }));
  button.addEventListener("click", async () => {
    try {
      await api("DELETE", `${API}/chat/${message.id}`);
      chat.remove([message.id]);
    } catch (error) {
      chatNotice.textContent = error.message;
    }
  });
  return button;
}

function showPermissions(p) {
  state.permissions = { ...state.permissions, ...p };
  let text = "";
  if (p.banned) text = t("banned");
  else if (p.muted_until) text = t("muted_until", { time: formatLocal(p.muted_until, { timeStyle: "short" }) });
  else if (state.slowMode > 0 && p.role !== "creator" && p.role !== "moderator") text = t("slow_mode", { n: state.slowMode });
  chatNotice.textContent = text;
  if (chatForm) {
    const blocked = !p.can_chat || p.banned || state.room.state === "ended";
    chatInput.disabled = blocked;
    chatForm.querySelector("button").disabled = blocked;
  }
}

if (chatForm) {
  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    const button = chatForm.querySelector("button");
    button.disabled = true;
    try {
      let message;
      if (connection && connection.connected()) {
        const ack = await connection.emit("live.send", { text });
        if (!ack || !ack.ok) throw new Error((ack && ack.error && ack.error.message) || lt("error_generic"));
        message = ack.message;
      } else {
        message = await api("POST", `${API}/chat`, { text });
      }
      chatInput.value = "";
      chatNotice.textContent = "";
      chat.add([message], { announce: false });
    } catch (error) {
      chatNotice.textContent = error.message;
    } finally {
      button.disabled = false;
      chatInput.focus();
    }
  });
}

// The replay is published while the page is open: the ended curtain links to it.
function showReplay(url) {
  if (!url) return;
  $("replay-link").href = url;
  $("replay-ready").hidden = false;
  $("replay-pending").hidden = true;
}

// ---------------------------------------------------------------- the connection

function applySnapshot(snapshot) {
  state.room = snapshot.room;
  state.slowMode = snapshot.settings.slow_mode_seconds;
  state.flashRemaining.clear();
  state.flashOver.clear();
  clock.sync(snapshot.server_now);
  setViewers(snapshot.viewers);
  setHearts(snapshot.hearts);
  chat.reset(snapshot.chat);
  renderPins(snapshot.pins, { announce: false });
  showPermissions(snapshot.permissions);
  showRoomState();
}

const connection = connectRoom(ROOM, {
  snapshot: (snapshot) => applySnapshot(snapshot),
  refused: (error) => {
    if (error.code === "banned") showPermissions({ ...state.permissions, banned: true, can_chat: false });
  },
  pins: (payload) => renderPins(payload),
  chat: (messages) => chat.add(messages),
  chatDeleted: (ids) => chat.remove(ids),
  counters: (payload) => {
    if (typeof payload.viewers === "number") setViewers(payload.viewers);
    if (typeof payload.hearts === "number" && !state.pendingHearts) setHearts(Math.max(payload.hearts, 0));
    for (const change of payload.flash || []) {
      state.flashRemaining.set(change.id, change.remaining);
      if (change.over) state.flashOver.add(change.id);
    }
    if (payload.flash) tickFlash();
  },
  state: (payload) => {
    const was = state.room.state;
    state.room = { ...state.room, state: payload.state, started_at: payload.started_at, ended_at: payload.ended_at };
    if (was !== payload.state) {
      $("chat-announcer").textContent = payload.state === "live" ? t("live_started") : t("live_ended");
    }
    showRoomState();
  },
  settings: (payload) => {
    state.slowMode = payload.slow_mode_seconds;
    showPermissions(state.permissions);
  },
  permissions: (payload) => showPermissions(payload),
  stream: (payload) => {
    if (payload.stream === "live" && state.room.state === "live") player.wake();
  },
  replay: (payload) => showReplay(payload.url),
  status: (status) => root.classList.toggle("is-offline", status === "offline"),
});

// Scheduled: count down to the announced start (the server's clock).
setInterval(() => {
  if (state.room.state !== "scheduled" || !state.room.scheduled_at) return;
  const left = parseUtc(state.room.scheduled_at) - clock.now();
  $("upcoming-countdown").textContent = left > 0 ? t("starts_in", { time: formatDuration(left) }) : "";
}, 1000);

applySnapshot(data.snapshot);

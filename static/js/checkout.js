// The in-stream checkout drawer: buy a pinned product without leaving the video.
//
// openCheckout({ productId, sourceKind, sourceKey }) fills the drawer from the server
// (price now, flash sale, the server's clock), places the order with an Idempotency-Key that
// is kept for retries of the same attempt, shows the sandbox pay page in an iframe, and shows
// the paid state when the order's "order.updated" event arrives (polling as a fallback).

import { ApiError, csrfToken, errorFromBody, formatMoney } from "./api.js";
import { groupOffer } from "./checkout-group.js";
import { connection, onResync } from "./realtime.js";
import { couponIds, pointsToUse, refreshQuote, setupCoupons } from "./drawer-coupons.js";

const drawer = document.getElementById("checkout-drawer");
let strings = null;

function s(key, vars = {}) {
  if (strings === null) {
    const node = document.getElementById("checkout-i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  const text = strings[key] ?? key;
  return String(text).replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

async function call(method, url, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (method !== "GET") init.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(s("error_network"), { status: 0, code: "network" });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw errorFromBody(response.status, data);
  return data;
}

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + Math.random().toString(16).slice(2);
}


function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function parseUtc(text) {
  // The server sends naive UTC times.
  return Date.parse(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : text + "Z");
}

const $ = (selector) => drawer.querySelector(selector);

const state = {
  info: null,
  source: { kind: null, key: null },
  attempt: null, // { key, params } of the current Pay attempt, reused for its retries
  order: null,
  clockOffset: 0, // server time minus this browser's time
  timer: null,
  poll: null,
  socket: null,
  stopResync: null, // removes the drawer's resync handler
  returnFocus: null,
};

function showError(error) {
  const box = $(".drawer-error");
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const p = document.createElement("p");
  p.textContent = error.message || s("error_generic");
  box.append(p);
  for (const [name, message] of Object.entries(error.fields || {})) {
    const line = document.createElement("p");
    line.textContent = `${name}: ${message}`;
    box.append(line);
  }
  box.hidden = false;
}

function setStatus(text) {
  $(".drawer-status").textContent = text || "";
}

function quantity() {
  return Number.parseInt($(".drawer-quantity").value, 10);
}

function maxQuantity() {
  const info = state.info;
  let max = Math.min(99, info ? info.stock : 99);
  if (info && info.per_buyer_limit) max = Math.min(max, info.per_buyer_limit);
  if (info && info.flash && info.flash.on && info.flash.per_buyer_limit) {
    max = Math.min(max, info.flash.per_buyer_limit);
  }
  return Math.max(1, max);
}

function renderTotal() {
  const info = state.info;
  if (!info) return;
  const q = quantity();
  const unit = info.unit_price_minor;
  $(".drawer-total-value").textContent = Number.isFinite(q) && q > 0 ? formatMoney(unit * q, info.currency) : "—";
  // Coupons: the server's quote replaces the total with what the buyer will pay.
  if (Number.isFinite(q) && q > 0 && q <= maxQuantity()) refreshQuote(lineItem(q), $(".drawer-total-value"));
}

function lineItem(q) {
  const item = { product_id: state.info.product_id, quantity: q };
  if (state.source.kind) {
    item.source_kind = state.source.kind;
    item.source_key = state.source.key;
  }
  return item;
}

function tick() {
  const flash = state.info && state.info.flash;
  const box = $(".drawer-flash");
  if (!flash) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const now = Date.now() + state.clockOffset;
  const starts = parseUtc(flash.starts_at);
  const ends = parseUtc(flash.ends_at);
  const countdown = $(".drawer-countdown");
  if (now < starts) countdown.textContent = s("starts_in", { time: formatDuration(starts - now) });
  else if (now < ends) countdown.textContent = s("ends_in", { time: formatDuration(ends - now) });
  else countdown.textContent = s("ended");
  $(".drawer-remaining").textContent =
    flash.remaining > 0 ? s("remaining", { n: flash.remaining }) : s("sold_out");
  // The price changes when the window opens or closes: ask the server again.
  if ((now >= starts && !flash.on && now < ends && flash.remaining > 0) || (flash.on && now >= ends)) {
    loadInfo(state.info.product_id);
  }
}

function renderInfo() {
  const info = state.info;
  $(".drawer-product-title").textContent = info.title;
  $(".drawer-unit").textContent = info.price_display;
  const list = $(".drawer-list");
  list.hidden = info.unit_price_minor === info.list_price_minor;
  list.textContent = formatMoney(info.list_price_minor, info.currency);
  $(".drawer-quantity").max = String(maxQuantity());
  renderTotal();
  tick();
}

async function loadInfo(productId) {
  const info = await call("GET", `/api/v1/products/${productId}/buy-info`);
  state.info = info;
  state.clockOffset = parseUtc(info.server_now) - Date.now();
  renderInfo();
}

async function loadAddresses(selectId = null) {
  const select = $(".drawer-address");
  const data = await call("GET", "/api/v1/addresses");
  select.replaceChildren();
  for (const a of data.items) {
    const option = document.createElement("option");
    option.value = String(a.id);
    option.textContent = `${a.name} · ${a.line1}, ${a.city}`;
    select.append(option);
  }
  if (selectId) select.value = String(selectId);
  const none = data.items.length === 0;
  $(".drawer-new-address").hidden = !none;
  $(".drawer-add-address").setAttribute("aria-expanded", String(none));
}

async function saveAddress() {
  const box = $(".drawer-new-address");
  const body = {};
  for (const input of box.querySelectorAll("input")) body[input.name] = input.value;
  try {
    const address = await call("POST", "/api/v1/addresses", body);
    showError(null);
    box.hidden = true;
    await loadAddresses(address.id);
    setStatus(s("address_saved"));
  } catch (error) {
    showError(error);
  }
}

function orderParams() {
  const q = quantity();
  const addressId = Number.parseInt($(".drawer-address").value, 10);
  if (!Number.isFinite(q) || q < 1 || q > maxQuantity()) {
    throw new ApiError(s("bad_quantity", { n: maxQuantity() }), { code: "quantity" });
  }
  if (!Number.isFinite(addressId)) throw new ApiError(s("need_address"), { code: "address" });
  const params = { items: [lineItem(q)], address_id: addressId };
  const coupons = couponIds();
  if (coupons !== undefined) params.coupon_ids = coupons;
  const points = pointsToUse();
  if (points !== undefined) params.points_to_use = points;
  return params;
}

async function pay(event) {
  event.preventDefault();
  showError(null);
  let params;
  try {
    params = orderParams();
  } catch (error) {
    showError(error);
    return;
  }
  const text = JSON.stringify(params);
  // A retry of the same attempt (same choices) reuses its key: never a second order.
  if (!state.attempt || state.attempt.params !== text) {
    state.attempt = { key: newKey(), params: text, payKey: newKey() };
  }
  const button = $(".drawer-pay");
  button.disabled = true;
  setStatus(s("placing"));
  try {
    const placed = await call("POST", "/api/v1/orders", params, {
      "Idempotency-Key": state.attempt.key,
    });
    const order = placed.orders[0];
    state.order = order;
    const payment = await call(
      "POST",
      `/api/v1/orders/${order.id}/payments`,
      { return_to: window.location.pathname },
      { "Idempotency-Key": state.attempt.payKey },
    );
    showPayPage(payment.pay_url);
  } catch (error) {
    showError(error);
    setStatus("");
  } finally {
    button.disabled = false;
  }
}

const group = drawer
  ? groupOffer(drawer, {
      call,
      newKey,
      showError,
      text: s,
      source: () => state.source,
      startPaying(order, payUrl, groupUrl) {
        state.order = order;
        $(".drawer-group-link").href = groupUrl;
        $(".drawer-group-link").hidden = false;
        showPayPage(payUrl);
      },
    })
  : null;

function showPayPage(url) {
  $(".drawer-form").hidden = true;
  $(".drawer-paying").hidden = false;
  $(".drawer-frame").src = url;
  $(".drawer-popup").href = url;
  setStatus(s("waiting"));
  watchOrder();
}

function showOrder(order) {
  if (!state.order || order.id !== state.order.id) return;
  state.order = order;
  if (order.state === "pending_payment") return;
  stopWatching();
  $(".drawer-paying").hidden = true;
  $(".drawer-frame").removeAttribute("src");
  const done = $(".drawer-paid");
  done.hidden = false;
  done.dataset.state = order.state;
  $(".drawer-paid-text").textContent = order.state === "cancelled" ? s("expired") : s("paid");
  $(".drawer-order-link").href = order.url;
  $(".drawer-order-link").focus();
}

async function refreshOrder() {
  if (!state.order) return;
  try {
    showOrder(await call("GET", `/api/v1/orders/${state.order.id}`));
  } catch {
    // keep waiting; the next poll or the event will tell
  }
}

function watchOrder() {
  stopWatching();
  // The page's connection, shared with the live room under the drawer: never closed here.
  state.socket = connection();
  if (state.socket) state.socket.on("order.updated", showOrder);
  state.stopResync = onResync(refreshOrder); // events were missed: ask at once
  // A paid order is the one thing the drawer waits for: ask now and then as well.
  state.poll = setInterval(refreshOrder, 3000);
}

function stopWatching() {
  if (state.poll) clearInterval(state.poll);
  state.poll = null;
  if (state.socket) state.socket.off("order.updated", showOrder);
  state.socket = null;
  if (state.stopResync) state.stopResync();
  state.stopResync = null;
}

async function addToCart() {
  showError(null);
  const q = quantity();
  const body = { product_id: state.info.product_id, quantity: Number.isFinite(q) ? q : 1 };
  if (state.source.kind) {
    body.source_kind = state.source.kind;
    body.source_key = state.source.key;
  }
  try {
    await call("POST", "/api/v1/cart", body);
    setStatus(s("added"));
  } catch (error) {
    showError(error);
  }
}

export function closeCheckout() {
  if (!drawer || drawer.hidden) return;
  drawer.hidden = true;
  stopWatching();
  clearInterval(state.timer);
  $(".drawer-frame").removeAttribute("src");
  if (state.returnFocus) state.returnFocus.focus();
}

/** Open the drawer for a product; the page (and its video) stays as it is underneath. */
export async function openCheckout({ productId, sourceKind = null, sourceKey = null }) {
  if (!drawer) return;
  state.returnFocus = document.activeElement;
  state.source = { kind: sourceKind, key: sourceKey };
  state.attempt = null;
  state.order = null;
  showError(null);
  setStatus("");
  $(".drawer-form").hidden = false;
  $(".drawer-paying").hidden = true;
  $(".drawer-paid").hidden = true;
  $(".drawer-quantity").value = "1";
  $(".drawer-group-link").hidden = true;
  const loggedIn = drawer.dataset.loggedIn === "true";
  $(".drawer-login").hidden = loggedIn;
  setupCoupons(drawer, loggedIn, () => $(".drawer-total-value"));
  $(".drawer-form").hidden = !loggedIn;
  const login = $(".drawer-login-link");
  login.href = `${drawer.dataset.loginUrl}?next=${encodeURIComponent(location.pathname)}`;
  drawer.hidden = false;
  $(".drawer-close").focus();
  try {
    await Promise.all([
      loadInfo(productId),
      loggedIn ? loadAddresses() : null,
      group.load(productId),
    ]);
  } catch (error) {
    showError(error);
  }
  clearInterval(state.timer);
  state.timer = setInterval(tick, 1000);
}

if (drawer) {
  $(".drawer-close").addEventListener("click", closeCheckout);
  $(".drawer-form").addEventListener("submit", pay);
  $(".drawer-cart").addEventListener("click", addToCart);
  $(".drawer-quantity").addEventListener("input", renderTotal);
  $(".drawer-save-address").addEventListener("click", saveAddress);
  $(".drawer-add-address").addEventListener("click", (event) => {
    const box = $(".drawer-new-address");
    box.hidden = !box.hidden;
    event.currentTarget.setAttribute("aria-expanded", String(!box.hidden));
  });
  // Keys typed in the drawer are for the drawer, not for the feed's shortcuts underneath.
  drawer.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeCheckout();
    event.stopPropagation();
  });
  window.addEventListener("message", (event) => {
    if (event.origin !== location.origin || !event.data || event.data.type !== "liveshop:payment") return;
    if (event.data.state === "succeeded" && state.order) setStatus(s("waiting"));
  });
  // The product page's own buttons.
  for (const button of document.querySelectorAll("[data-checkout-product]")) {
    button.addEventListener("click", () =>
      openCheckout({ productId: Number(button.dataset.checkoutProduct) }),
    );
  }
  for (const button of document.querySelectorAll("[data-cart-product]")) {
    button.addEventListener("click", async () => {
      const status = document.querySelector(button.dataset.status || "#cart-status");
      try {
        await call("POST", "/api/v1/cart", { product_id: Number(button.dataset.cartProduct) });
        if (status) status.textContent = s("added");
      } catch (error) {
        if (status) status.textContent = error.message;
      }
    });
  }
}

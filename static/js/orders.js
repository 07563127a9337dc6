// Order pages: actions through the JSON API, and live updates from "order.updated" events.

import { ApiError, csrfToken, errorFromBody } from "./api.js";
import { connection, onResync } from "./realtime.js";
import { localTime } from "./localtime.js";

const page = document.getElementById("order");
let strings = null;

function s(key) {
  if (strings === null) {
    const node = document.getElementById("orders-i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  return strings[key] ?? (key === "states" || key === "notes" ? {} : key);
}

async function call(method, url, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken(), ...headers },
  };
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
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw errorFromBody(response.status, data);
  return data;
}

// States and history notes as people read them (the page's language; order_strings() server side).
function stateLabel(state) {
  return (s("states") || {})[state] || state;
}

function noteText(event) {
  const template = (s("notes") || {})[event.kind];
  if (!event.kind) return "";
  return template ? template.replace("%(detail)s", event.detail || "") : event.detail || "";
}

function money(minor, currency) {
  const digits = currency === "JPY" ? 0 : 2;
  try {
    return new Intl.NumberFormat(document.documentElement.lang || "en", {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
    }).format(minor / 10 ** digits);
  } catch {
    return (minor / 10 ** digits).toFixed(digits);
  }
}

function toMinor(text, currency) {
  const digits = currency === "JPY" ? 0 : 2;
  const clean = String(text).trim().replace(",", ".");
  const pattern = digits ? /^\d+(\.\d{1,2})?$/ : /^\d+$/;
  if (!pattern.test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 10 ** digits + Number((fraction + "00").slice(0, digits) || 0);
}

function newKey() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
}

function showError(error) {
  const box = document.getElementById("order-error");
  if (!box) return;
  box.textContent = error ? error.message || s("error_generic") : "";
  box.hidden = !error;
}

function render(order) {
  const badge = document.getElementById("order-state");
  badge.textContent = stateLabel(order.state);
  badge.dataset.state = order.state;
  document.getElementById("order-tracking").textContent = order.tracking_number || "—";
  document.getElementById("order-refunded").textContent = money(order.refunded_minor, order.currency);
  for (const line of order.lines) {
    const cell = document.querySelector(`.line-refunded[data-line="${line.id}"]`);
    if (cell) cell.textContent = money(line.refunded_minor, order.currency);
  }
  const history = document.getElementById("order-history");
  history.replaceChildren(
    ...order.history.map((e) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = e.at;
      time.dataset.local = "datetime";
      time.textContent = localTime(e.at);
      const note = noteText(e);
      li.append(time, ` · ${stateLabel(e.to_state)}${note ? " · " + note : ""}`);
      return li;
    }),
  );
  const requested = order.refund_request && order.refund_request.state === "requested";
  for (const el of page.querySelectorAll("[data-when]")) {
    el.hidden =
      !el.dataset.when.split(" ").includes(order.state) ||
      (requested && "hiddenWhileRequested" in el.dataset);
  }
  // A partly refunded order waits for the step after the furthest it reached (the server says).
  for (const el of page.querySelectorAll("[data-step]")) el.hidden = el.dataset.step !== order.next_step;
  for (const el of page.querySelectorAll("[data-shown-while-requested]")) el.hidden = !requested;
  renderRefundRequest(order.refund_request);
  page.dataset.state = order.state;
}

function renderRefundRequest(request) {
  const box = document.getElementById("refund-request-status");
  if (!box) return;
  box.hidden = !request;
  if (!request) return;
  const side = page.dataset.role === "buyer" ? "buyer" : "seller";
  const when = request.requested_at ? new Date(request.requested_at).toLocaleString(document.documentElement.lang || undefined) : "";
  box.dataset.state = request.state;
  box.textContent = s(`${side}_${request.state}`)
    .replace("{date}", when)
    .replace("{reason}", request.state === "declined" ? request.decline_reason : request.reason);
}

async function act(action, form) {
  const id = page.dataset.order;
  const order = JSON.parse(document.getElementById("order-data").textContent);
  const base = `/api/v1/orders/${id}`;
  const data = form ? Object.fromEntries(new FormData(form)) : {};
  if (action === "cancel" && !window.confirm(s("confirm_cancel"))) return null;
  if (action === "refund") {
    const amount = toMinor(data.amount, order.currency);
    if (amount === null || amount <= 0) throw new ApiError(s("bad_amount"), { code: "amount" });
    // One key per submitted form: a double click or a retry never refunds twice.
    form.dataset.key = form.dataset.key || newKey();
    return call(
      "POST",
      `${base}/refund`,
      { amount_minor: amount, reason: data.reason || "", restock: data.restock === "on" },
      { "Idempotency-Key": form.dataset.key },
    );
  }
  if (action === "ship") return call("POST", `${base}/ship`, { tracking_number: data.tracking_number });
  if (action === "refund-request") return call("POST", `${base}/refund-request`, { reason: data.reason || "" });
  if (action === "refund-decline") {
    return call("POST", `${base}/refund-request/decline`, { reason: data.reason || "" });
  }
  return call("POST", `${base}/${action}`);
}

function bind() {
  for (const el of page.querySelectorAll("[data-action]")) {
    const handler = async (event) => {
      event.preventDefault();
      showError(null);
      const form = el.tagName === "FORM" ? el : null;
      try {
        const order = await act(el.dataset.action, form);
        if (order) {
          document.getElementById("order-data").textContent = JSON.stringify(order);
          render(order);
          if (form) {
            form.reset();
            delete form.dataset.key;
          }
        }
      } catch (error) {
        showError(error);
      }
    };
    el.addEventListener(el.tagName === "FORM" ? "submit" : "click", handler);
  }
}

function listen(onOrder) {
  const socket = connection();
  if (socket) socket.on("order.updated", onOrder);
}

function showOrder(order) {
  if (order.id !== page.dataset.order) return;
  document.getElementById("order-data").textContent = JSON.stringify(order);
  render(order);
}

function showRowState(order) {
  const cell = document.querySelector(`tr[data-order="${order.id}"] .order-state`);
  if (cell) {
    cell.textContent = stateLabel(order.state);
    cell.dataset.state = order.state;
  }
}

if (page) {
  bind();
  render(JSON.parse(document.getElementById("order-data").textContent));
  listen(showOrder);
  // Events may have been missed: read the order again.
  onResync(() => {
    call("GET", `/api/v1/orders/${page.dataset.order}`).then(showOrder, () => {});
  });
} else {
  // A list of orders: update the state of the rows shown.
  listen(showRowState);
  // Events may have been missed: read this page of the list again (the same role, filter, page).
  onResync(() => {
    const table = document.querySelector(".orders-table");
    const query = new URLSearchParams(location.search);
    const params = new URLSearchParams({ role: (table && table.dataset.role) || "buyer" });
    for (const name of ["state", "page"]) if (query.get(name)) params.set(name, query.get(name));
    call("GET", `/api/v1/orders?${params}`).then((list) => list.items.forEach(showRowState), () => {});
  });
}

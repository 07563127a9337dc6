// Open or join a group: place the order (a held seat), start paying, go to the pay page.
// Countdowns run from the server's clock (seconds left when the page was made).
import { api, showError, t } from "./api.js";

function key() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
}

function format(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function countdowns() {
  const started = Date.now();
  const nodes = document.querySelectorAll(".group-countdown[data-seconds-left]");
  const tick = () => {
    const gone = Math.floor((Date.now() - started) / 1000);
    for (const node of nodes) {
      const left = Number(node.dataset.secondsLeft) - gone;
      node.textContent = left > 0 ? t("ends_in", { time: format(left) }) : t("ended");
    }
  };
  tick();
  if (nodes.length) setInterval(tick, 1000);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Idempotency-Key": key(),
      "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content || "",
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || t("error_generic"));
    error.code = data && data.error && data.error.code;
    throw error;
  }
  return data;
}

function wire(section) {
  const error = section.querySelector(".group-error");
  const button = section.querySelector(".group-open, .group-join");
  if (!button) return;
  button.addEventListener("click", async () => {
    if (section.dataset.loggedIn !== "true") {
      window.location.href = `${section.dataset.loginUrl}?next=${encodeURIComponent(location.pathname)}`;
      return;
    }
    const select = section.querySelector(".group-address");
    if (!select || !select.value) {
      showError(error, { message: t("need_address") });
      return;
    }
    const body = { product_id: Number(section.dataset.productId), address_id: Number(select.value) };
    if (button.dataset.groupId) body.group_id = button.dataset.groupId;
    const params = new URLSearchParams(location.search);
    if (params.get("source_kind") && params.get("source_key")) {
      body.source_kind = params.get("source_kind");
      body.source_key = params.get("source_key");
    }
    button.disabled = true;
    showError(error, null);
    try {
      const placed = await post("/api/v1/group-orders", body);
      const payment = await post(`/api/v1/orders/${placed.order_id}/payments`, {
        return_to: placed.group_url,
      });
      window.location.href = payment.pay_url;
    } catch (problem) {
      showError(error, problem);
      button.disabled = false;
    }
  });
}

countdowns();
document.querySelectorAll(".group-offer").forEach(wire);
void api;

// The cart page: change quantities, remove lines, check out one seller's lines and pay.

import { api, csrfToken, errorFromBody } from "./api.js";

const errorBox = document.getElementById("cart-error");

function showError(error) {
  errorBox.textContent = error ? error.message : "";
  errorBox.hidden = !error;
}

function newKey() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
}

async function post(url, body, key) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": csrfToken(),
      "Idempotency-Key": key,
    },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw errorFromBody(response.status, data);
  return data;
}

for (const input of document.querySelectorAll(".cart-qty")) {
  input.addEventListener("change", async () => {
    try {
      await api("PATCH", `/api/v1/cart/${input.dataset.item}`, { quantity: Number(input.value) });
      showError(null);
    } catch (error) {
      showError(error);
    }
  });
}

for (const button of document.querySelectorAll(".cart-remove")) {
  button.addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/v1/cart/${button.dataset.item}`);
      button.closest("li").remove();
    } catch (error) {
      showError(error);
    }
  });
}

for (const form of document.querySelectorAll(".cart-checkout")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    form.dataset.key = form.dataset.key || newKey();
    try {
      const placed = await post(
        "/api/v1/orders",
        {
          from_cart: true,
          merchant_id: Number(form.dataset.merchant),
          address_id: Number(new FormData(form).get("address_id")),
        },
        form.dataset.key,
      );
      const order = placed.orders[0];
      const payment = await post(`/api/v1/orders/${order.id}/payments`, { return_to: order.url }, newKey());
      window.location.assign(payment.pay_url);
    } catch (error) {
      showError(error);
    }
  });
}

// The cart page: change quantities, remove lines, and check out one seller's lines with what the
// checkout drawer offers: the quote's subtotal, coupon chooser, points toggle, saving and total
// (quoteBox), re-quoted on every change; the order is placed with the chosen coupons and points.

import { api, csrfToken, errorFromBody } from "./api.js";
import { quoteBox } from "./drawer-coupons.js";

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

/** The seller's cart lines as the quote's items (what checking out the cart will order). */
function items(group) {
  return [...group.querySelectorAll(".cart-lines li[data-item]")].map((li) => {
    const item = {
      product_id: Number(li.dataset.product),
      quantity: Number(li.querySelector(".cart-qty").value),
    };
    if (li.dataset.sourceKind) {
      item.source_kind = li.dataset.sourceKind;
      item.source_key = li.dataset.sourceKey;
    }
    return item;
  });
}

function validQuantities(list) {
  return list.every((i) => Number.isInteger(i.quantity) && i.quantity >= 1 && i.quantity <= 99);
}

function setUp(group) {
  const quoteError = group.querySelector(".cart-quote-error");
  const form = group.querySelector(".cart-checkout");
  const box = quoteBox(group, {
    totalNode: () => group.querySelector(".cart-total-value"),
    subtotalNode: () => group.querySelector(".cart-subtotal-value"),
    onQuote: () => {
      // A new quote (other lines, coupon or points) is a new checkout: not a retry of the last.
      if (form) delete form.dataset.key;
    },
    onError: (error) => {
      quoteError.textContent = error ? error.message : "";
      quoteError.hidden = !error;
      // A refused quote has no total: the last one shown no longer applies.
      for (const row of group.querySelectorAll(".cart-subtotal, .cart-total")) row.hidden = Boolean(error);
    },
  });

  function requote() {
    const list = items(group);
    if (list.length && validQuantities(list)) box.refresh(list);
  }

  for (const input of group.querySelectorAll(".cart-qty")) {
    input.addEventListener("change", async () => {
      try {
        await api("PATCH", `/api/v1/cart/${input.dataset.item}`, { quantity: Number(input.value) });
        showError(null);
        requote();
      } catch (error) {
        showError(error);
      }
    });
  }

  for (const button of group.querySelectorAll(".cart-remove")) {
    button.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/v1/cart/${button.dataset.item}`);
        button.closest("li").remove();
        if (!group.querySelector(".cart-lines li[data-item]")) {
          group.remove();
          const empty = document.querySelector(".cart-empty");
          if (empty && !document.querySelector(".cart-group")) empty.hidden = false;
        } else {
          requote();
        }
      } catch (error) {
        showError(error);
      }
    });
  }

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(null);
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await box.settled(); // the coupons and points the buyer last saw
        form.dataset.key = form.dataset.key || newKey();
        const body = {
          from_cart: true,
          merchant_id: Number(form.dataset.merchant),
          address_id: Number(new FormData(form).get("address_id")),
        };
        const coupons = box.couponIds();
        if (coupons !== undefined) body.coupon_ids = coupons;
        const points = box.pointsToUse();
        if (points !== undefined) body.points_to_use = points;
        const placed = await post("/api/v1/orders", body, form.dataset.key);
        const order = placed.orders[0];
        const payment = await post(`/api/v1/orders/${order.id}/payments`, { return_to: order.url }, newKey());
        window.location.assign(payment.pay_url);
      } catch (error) {
        showError(error);
        button.disabled = false;
      }
    });
  }

  requote();
}

for (const group of document.querySelectorAll(".cart-group")) setUp(group);

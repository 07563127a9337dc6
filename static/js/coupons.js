// Coupons to claim on product and shop pages (and in the checkout drawer): each shows what it
// gives and its full rules before the claim button. Strings come from #coupons-i18n.

import { api } from "./api.js";

let strings = null;

export function cs(key, vars = {}) {
  if (strings === null) {
    const node = document.getElementById("coupons-i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  const text = strings[key] ?? key;
  return String(text).replace(/%\((\w+)\)[sd]/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** One coupon as a list item with its rules and a claim button; onClaimed(coupon) after a claim. */
export function couponItem(template, { roomId = null, source = "shop", onClaimed = null, loggedIn = true } = {}) {
  const li = document.createElement("li");
  li.className = "coupon-offer";
  li.dataset.templateId = String(template.id);
  const head = document.createElement("p");
  head.className = "coupon-headline";
  const strong = document.createElement("strong");
  strong.textContent = template.headline;
  head.append(strong, document.createTextNode(` · ${template.title}`));
  const rules = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = cs("rules");
  const list = document.createElement("ul");
  list.className = "small";
  for (const line of template.rules_text) {
    const item = document.createElement("li");
    item.textContent = line;
    list.append(item);
  }
  rules.append(summary, list);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button small coupon-claim";
  const status = document.createElement("span");
  status.className = "muted small coupon-status";
  status.setAttribute("role", "status");
  const full = template.held >= template.per_person;
  button.textContent = full ? cs("claimed") : cs("claim");
  button.disabled = full;
  button.addEventListener("click", async () => {
    if (!loggedIn) {
      window.location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
      return;
    }
    button.disabled = true;
    try {
      const body = roomId ? { source: "live", room_id: roomId } : { source };
      const coupon = await api("POST", `/api/v1/coupons/templates/${template.id}/claim`, body);
      button.textContent = cs("claimed");
      status.textContent = cs("claimed_note");
      if (onClaimed) onClaimed(coupon);
    } catch (error) {
      status.textContent = error.message;
      button.disabled = false;
    }
  });
  li.append(head, rules, button, status);
  return li;
}

async function fillStrip(box) {
  const query = box.dataset.productId ? `product_id=${box.dataset.productId}` : `merchant_id=${box.dataset.merchantId}`;
  try {
    const data = await api("GET", `/api/v1/coupons/available?${query}`);
    if (!data.items.length) return;
    const list = box.querySelector(".coupon-offers");
    list.replaceChildren(
      ...data.items.map((t) =>
        couponItem(t, { source: box.dataset.source || "shop", loggedIn: box.dataset.loggedIn === "true" }),
      ),
    );
    box.hidden = false;
  } catch {
    // no coupons shown: the page works without them
  }
}

for (const box of document.querySelectorAll("[data-coupon-strip]")) fillStrip(box);

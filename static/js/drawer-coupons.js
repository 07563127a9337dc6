// The checkout drawer's coupons: the best ones apply by themselves; the buyer may pick one or
// none. Shows the saving and the total from the server's quote, and coupons to claim here.
// Points: a toggle "use N points (−¥x)" with the balance and the order's cap, from the quote.

import { api } from "./api.js";
import { couponItem, cs } from "./coupons.js";

const state = {
  choice: "best",
  item: null,
  seq: 0,
  loggedIn: false,
  drawer: null,
  quote: null,
  usePoints: false,
};
let pointStrings = null;

function ps(key, vars = {}) {
  if (pointStrings === null) {
    const node = document.getElementById("points-i18n");
    try {
      pointStrings = node ? JSON.parse(node.textContent) : {};
    } catch {
      pointStrings = {};
    }
  }
  const text = pointStrings[key] ?? key;
  return String(text).replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** The order's points_to_use: what the last quote used, or undefined (none). */
export function pointsToUse() {
  const points = state.quote && state.quote.points;
  if (!state.usePoints || !points || points.points <= 0) return undefined;
  return points.points;
}

function renderPoints(order) {
  const box = state.drawer.querySelector(".drawer-points");
  const points = order.points;
  if (!box) return;
  if (!points || points.max_points <= 0) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  state.drawer.querySelector(".drawer-use-points").checked = state.usePoints;
  state.drawer.querySelector(".drawer-points-text").textContent = ps("use", {
    points: points.max_points,
    amount: points.max_discount_display,
  });
  state.drawer.querySelector(".drawer-points-balance").textContent = ps("balance", {
    balance: points.balance,
    max: points.max_points,
  });
}

/** The order's coupon_ids: undefined (best, the server picks), [] (none) or [id]. */
export function couponIds() {
  if (state.choice === "best") return undefined;
  if (state.choice === "none") return [];
  return [Number(state.choice)];
}

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function render(quote, totalNode) {
  const box = state.drawer.querySelector(".drawer-coupons");
  const order = quote.orders[0];
  if (!order) return;
  state.quote = order;
  const select = state.drawer.querySelector(".drawer-coupon");
  const usable = order.coupons.filter((c) => c.applicable);
  select.replaceChildren(
    option("best", cs("best")),
    ...usable.map((c) => option(String(c.id), `${c.headline} · ${c.title}`)),
    option("none", cs("no_coupon")),
  );
  if (![...select.options].some((o) => o.value === state.choice)) state.choice = "best";
  select.value = state.choice;
  state.drawer.querySelector(".drawer-saving").textContent =
    order.discount_minor > 0 ? cs("saving", { amount: order.discount_display }) : "";
  const claimable = state.drawer.querySelector(".drawer-claimable");
  claimable.replaceChildren(
    ...order.claimable.map((t) =>
      couponItem(t, { source: "checkout", onClaimed: () => refreshQuote(state.item, totalNode) }),
    ),
  );
  box.hidden = usable.length === 0 && order.claimable.length === 0;
  renderPoints(order);
  if (totalNode) totalNode.textContent = order.total_display;
}

/** Ask the server what the item costs with coupons; only the latest answer is shown. */
export async function refreshQuote(item, totalNode) {
  if (!state.drawer || !state.loggedIn || !item) return;
  state.item = item;
  const seq = ++state.seq;
  const body = { items: [item] };
  const ids = couponIds();
  if (ids !== undefined) body.coupon_ids = ids;
  if (state.usePoints) body.points_to_use = 1000000000; // the quote takes what the order allows
  try {
    const quote = await api("POST", "/api/v1/orders/quote", body);
    if (seq === state.seq) render(quote, totalNode);
  } catch {
    // the drawer works without coupons
  }
}

export function setupCoupons(drawer, loggedIn, getTotalNode) {
  state.drawer = drawer;
  state.loggedIn = loggedIn;
  state.choice = "best";
  state.usePoints = false;
  state.quote = null;
  drawer.querySelector(".drawer-coupons").hidden = true;
  const points = drawer.querySelector(".drawer-points");
  if (points) points.hidden = true;
  const toggle = drawer.querySelector(".drawer-use-points");
  if (toggle && !toggle.dataset.bound) {
    toggle.dataset.bound = "1";
    toggle.addEventListener("change", () => {
      state.usePoints = toggle.checked;
      refreshQuote(state.item, getTotalNode());
    });
  }
  const select = drawer.querySelector(".drawer-coupon");
  if (!select.dataset.bound) {
    select.dataset.bound = "1";
    select.addEventListener("change", () => {
      state.choice = select.value;
      refreshQuote(state.item, getTotalNode());
    });
  }
}

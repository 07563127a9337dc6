// The checkout drawer's coupons: the best ones apply by themselves; the buyer may pick one or
// none. Shows the saving and the total from the server's quote, and coupons to claim here.

import { api } from "./api.js";
import { couponItem, cs } from "./coupons.js";

const state = { choice: "best", item: null, seq: 0, loggedIn: false, drawer: null, quote: null };

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
  drawer.querySelector(".drawer-coupons").hidden = true;
  const select = drawer.querySelector(".drawer-coupon");
  if (!select.dataset.bound) {
    select.dataset.bound = "1";
    select.addEventListener("change", () => {
      state.choice = select.value;
      refreshQuote(state.item, getTotalNode());
    });
  }
}

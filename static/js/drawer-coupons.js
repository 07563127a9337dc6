// A checkout's quote, bound to one container (the checkout drawer, or a seller's block on the
// cart page): the best coupons apply by themselves and the buyer may pick one or none; points
// are a toggle "use N points (−¥x)" with the balance and the order's cap; the saving and the
// total come from the server's quote (POST /api/v1/orders/quote), as do coupons to claim here.
// Elements looked up in the container: .drawer-coupons (.drawer-coupon select, .drawer-claimable),
// .drawer-saving, .drawer-points (.drawer-use-points, .drawer-points-text, .drawer-points-balance).

import { api } from "./api.js";
import { couponItem, cs } from "./coupons.js";

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

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

/**
 * The quote of `root`'s checkout. `totalNode()` and `subtotalNode()` give where the quote's total
 * and subtotal go; `onQuote(order)` and `onError(error)` are told of each answer.
 */
export function quoteBox(root, { totalNode = () => null, subtotalNode = () => null, onQuote = null, onError = null } = {}) {
  const state = { choice: "best", items: null, seq: 0, quote: null, usePoints: false, loggedIn: true };
  let pending = Promise.resolve();
  const $ = (selector) => root.querySelector(selector);

  function renderPoints(order) {
    const box = $(".drawer-points");
    const points = order.points;
    if (!box) return;
    if (!points || points.max_points <= 0) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    $(".drawer-use-points").checked = state.usePoints;
    $(".drawer-points-text").textContent = ps("use", {
      points: points.max_points,
      amount: points.max_discount_display,
    });
    $(".drawer-points-balance").textContent = ps("balance", {
      balance: points.balance,
      max: points.max_points,
    });
  }

  function render(quote) {
    const order = quote.orders[0];
    if (!order) return;
    state.quote = order;
    const select = $(".drawer-coupon");
    const usable = order.coupons.filter((c) => c.applicable);
    select.replaceChildren(
      option("best", cs("best")),
      ...usable.map((c) => option(String(c.id), `${c.headline} · ${c.title}`)),
      option("none", cs("no_coupon")),
    );
    if (![...select.options].some((o) => o.value === state.choice)) state.choice = "best";
    select.value = state.choice;
    const saving = $(".drawer-saving");
    saving.textContent = order.discount_minor > 0 ? cs("saving", { amount: order.discount_display }) : "";
    saving.hidden = order.discount_minor <= 0;
    $(".drawer-claimable").replaceChildren(
      ...order.claimable.map((t) =>
        couponItem(t, { source: "checkout", onClaimed: () => refresh(state.items) }),
      ),
    );
    $(".drawer-coupons").hidden = usable.length === 0 && order.claimable.length === 0;
    renderPoints(order);
    const total = totalNode();
    if (total) total.textContent = order.total_display;
    const subtotal = subtotalNode();
    if (subtotal) subtotal.textContent = order.subtotal_display;
    if (onQuote) onQuote(order);
  }

  /** Ask the server what the items cost; only the latest answer is shown. */
  function refresh(items) {
    if (!state.loggedIn || !items || !items.length) return pending;
    state.items = items;
    const seq = ++state.seq;
    const body = { items };
    const ids = couponIds();
    if (ids !== undefined) body.coupon_ids = ids;
    if (state.usePoints) body.points_to_use = 1000000000; // the quote takes what the order allows
    pending = api("POST", "/api/v1/orders/quote", body).then(
      (quote) => {
        if (seq === state.seq) {
          render(quote);
          if (onError) onError(null);
        }
      },
      (error) => {
        if (seq === state.seq && onError) onError(error); // the drawer works without coupons
      },
    );
    return pending;
  }

  /** The order's coupon_ids: undefined (best, the server picks), [] (none) or [id]. */
  function couponIds() {
    if (state.choice === "best") return undefined;
    if (state.choice === "none") return [];
    return [Number(state.choice)];
  }

  /** The order's points_to_use: what the last quote used, or undefined (none). */
  function pointsToUse() {
    const points = state.quote && state.quote.points;
    if (!state.usePoints || !points || points.points <= 0) return undefined;
    return points.points;
  }

  /** A fresh checkout: the best coupons, no points, nothing shown until the first quote. */
  function reset(loggedIn = true) {
    state.loggedIn = loggedIn;
    state.choice = "best";
    state.usePoints = false;
    state.quote = null;
    state.items = null;
    state.seq += 1;
    $(".drawer-coupons").hidden = true;
    const points = $(".drawer-points");
    if (points) points.hidden = true;
  }

  const toggle = $(".drawer-use-points");
  if (toggle) {
    toggle.addEventListener("change", () => {
      state.usePoints = toggle.checked;
      refresh(state.items);
    });
  }
  const select = $(".drawer-coupon");
  select.addEventListener("change", () => {
    state.choice = select.value;
    refresh(state.items);
  });
  reset();

  return {
    refresh,
    couponIds,
    pointsToUse,
    reset,
    /** Resolves once the latest quote asked for has been answered (and shown). */
    settled: () => pending,
  };
}

// The checkout drawer's one quote box (checkout.js, checkout-group.js).
let drawerBox = null;

export function setupCoupons(drawer, loggedIn, getTotalNode) {
  if (!drawerBox || drawerBox.root !== drawer) {
    drawerBox = { root: drawer, box: quoteBox(drawer, { totalNode: getTotalNode }) };
  }
  drawerBox.box.reset(loggedIn);
}

/** Quote the drawer's item (its total goes to the drawer's total node). */
export function refreshQuote(item) {
  if (drawerBox && item) drawerBox.box.refresh([item]);
}

export function couponIds() {
  return drawerBox ? drawerBox.box.couponIds() : undefined;
}

export function pointsToUse() {
  return drawerBox ? drawerBox.box.pointsToUse() : undefined;
}

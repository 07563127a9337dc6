// The checkout drawer's group-buy choice: beside "Pay" (buy alone at the normal price) it offers
// "Open a group" at the group price when the product has a campaign, with the rules shown first.
// checkout.js hands over what it shares (its fetch, keys, error and pay-page helpers).

import { pointsToUse } from "./drawer-coupons.js";

export function groupOffer(root, tools) {
  const box = root.querySelector(".drawer-group");
  if (!box) return { load: async () => {}, reset: () => {} };
  const button = box.querySelector(".drawer-group-open");
  const rules = box.querySelector(".drawer-group-rules");
  let offer = null;
  let attempt = null;

  function reset() {
    offer = null;
    attempt = null;
    box.hidden = true;
  }

  async function load(productId) {
    reset();
    const data = await tools.call("GET", `/api/v1/products/${productId}/groups`);
    if (!data || !data.campaign) return;
    offer = data.campaign;
    box.querySelector(".drawer-group-price").textContent = offer.price_display;
    box.querySelector(".drawer-group-size").textContent = tools.text("group_size", {
      n: offer.group_size,
    });
    rules.replaceChildren(
      ...offer.rules.map((line) => {
        const item = document.createElement("li");
        item.textContent = line;
        return item;
      }),
    );
    const open = data.open_groups.length;
    box.querySelector(".drawer-group-open-count").textContent = open
      ? tools.text("open_groups", { n: open })
      : "";
    box.hidden = false;
  }

  async function openGroup() {
    tools.showError(null);
    const addressId = Number.parseInt(root.querySelector(".drawer-address").value, 10);
    if (!offer || !Number.isFinite(addressId)) {
      tools.showError({ message: tools.text("need_address") });
      return;
    }
    const body = { product_id: offer.product_id, address_id: addressId };
    const points = pointsToUse(); // an upper bound: the group order takes what its cap allows
    if (points !== undefined) body.points_to_use = points;
    const source = tools.source();
    if (source.kind) {
      body.source_kind = source.kind;
      body.source_key = source.key;
    }
    if (!attempt) attempt = { key: tools.newKey(), payKey: tools.newKey() };
    button.disabled = true;
    try {
      const placed = await tools.call("POST", "/api/v1/group-orders", body, {
        "Idempotency-Key": attempt.key,
      });
      const payment = await tools.call(
        "POST",
        `/api/v1/orders/${placed.order_id}/payments`,
        { return_to: placed.group_url },
        { "Idempotency-Key": attempt.payKey },
      );
      tools.startPaying({ id: placed.order_id, url: placed.order_url }, payment.pay_url, placed.group_url);
    } catch (error) {
      tools.showError(error);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", openGroup);
  return { load, reset };
}

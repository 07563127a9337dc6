// The host's LIVE voucher control: pin one of her coupons (or a merchant's made for her) in the
// room, or unpin it.

import { api, showError } from "./api.js";

const box = document.getElementById("voucher-control");

if (box) {
  const room = box.dataset.room;
  const select = box.querySelector("#voucher-template");
  const current = box.querySelector("#voucher-current");
  const error = box.querySelector("#voucher-error");
  const none = current.dataset.none;

  const show = (voucher) => {
    current.textContent = voucher.pinned && voucher.template
      ? `${voucher.template.headline} · ${voucher.template.title} (${voucher.template.claimed}/${voucher.template.total})`
      : none;
    box.querySelector("#voucher-unpin").disabled = !voucher.pinned;
  };

  async function load() {
    try {
      const [pinnable, voucher] = await Promise.all([
        api("GET", `/api/v1/coupons/live/${room}/pinnable`),
        api("GET", `/api/v1/coupons/live/${room}`),
      ]);
      const usable = pinnable.items;
      select.replaceChildren(
        ...usable.map((t) => {
          const o = document.createElement("option");
          o.value = String(t.id);
          o.textContent = `${t.title} · ${t.headline}`;
          return o;
        }),
      );
      box.querySelector("#voucher-pin").disabled = usable.length === 0;
      show(voucher);
    } catch (err) {
      showError(error, err);
    }
  }

  box.querySelector("#voucher-pin").addEventListener("click", async () => {
    showError(error, null);
    try {
      show(await api("POST", `/api/v1/coupons/live/${room}`, { template_id: Number(select.value) }));
    } catch (err) {
      showError(error, err);
    }
  });
  box.querySelector("#voucher-unpin").addEventListener("click", async () => {
    showError(error, null);
    try {
      show(await api("DELETE", `/api/v1/coupons/live/${room}`));
    } catch (err) {
      showError(error, err);
    }
  });
  load();
}

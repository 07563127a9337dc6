// The LIVE voucher card in a live room: the host pins a coupon; viewers see it with its rules
// and claim it while the room is live. A watch task unlocks on the server's clock.

import { api } from "./api.js";
import { connection } from "./realtime.js";
import { couponItem, cs } from "./coupons.js";

const card = document.getElementById("voucher-card");

if (card) {
  const room = card.dataset.room;
  const loggedIn = card.dataset.loggedIn === "true";
  const list = card.querySelector(".coupon-offers");
  const note = card.querySelector(".voucher-note");
  let timer = null;

  const render = (voucher) => {
    clearTimeout(timer);
    if (!voucher.pinned || !voucher.template) {
      card.hidden = true;
      list.replaceChildren();
      return;
    }
    list.replaceChildren(couponItem(voucher.template, { roomId: room, loggedIn, onClaimed: load }));
    const button = list.querySelector(".coupon-claim");
    let text = "";
    if (!voucher.live) {
      button.disabled = true;
      text = cs("not_live");
    } else if (loggedIn && !voucher.task_done && voucher.task === "watch") {
      button.disabled = true;
      text = cs("watch_more", { seconds: voucher.seconds_to_wait });
      timer = setTimeout(load, voucher.seconds_to_wait * 1000 + 300);
    } else if (loggedIn && !voucher.task_done && voucher.task === "follow") {
      text = cs("follow_first");
    }
    note.textContent = text;
    card.hidden = false;
  };

  async function load() {
    try {
      render(await api("GET", `/api/v1/coupons/live/${room}`));
    } catch {
      // the room works without its voucher
    }
  }

  const socket = connection();
  if (socket) {
    socket.on("live.voucher", (payload) => payload && payload.room === room && load());
    socket.on("live.state", (payload) => payload && payload.room === room && load());
  }
  load();
}

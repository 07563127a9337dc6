// A product card's flash sale (video pins in the feed and on watch pages): the flash price over
// the struck list price, a badge and a countdown that ticks each second and ends by itself.
// The card carries seconds counted on the server's clock when the page or page of the feed was
// read, so a wrong clock on the phone does not move the end.

import { t } from "./api.js";

function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

const cards = new Set(); // { el, product, startAt, endAt } with times on performance.now()

function render(card) {
  const { el, product, startAt, endAt } = card;
  const flash = product.flash;
  const now = performance.now();
  const phase = now >= endAt || flash.remaining <= 0 ? "over" : now < startAt ? "upcoming" : "on";
  el.dataset.flashPhase = phase;
  const onSale = phase === "on";
  el.querySelector(".pin-price").textContent = onSale ? flash.price_display : product.price_display;
  const list = el.querySelector(".pin-list-price");
  list.hidden = !onSale;
  list.textContent = product.price_display;
  const box = el.querySelector(".pin-flash");
  box.hidden = phase === "over";
  const countdown = el.querySelector(".pin-countdown");
  if (phase === "on") countdown.textContent = t("ends_in", { time: formatDuration(endAt - now) });
  else if (phase === "upcoming") countdown.textContent = t("starts_in", { time: formatDuration(startAt - now) });
  if (phase === "over") cards.delete(card); // ended by itself: the list price stays
}

// Shows `product.flash` (if any) on the card `el` and keeps its countdown running.
export function showCardFlash(el, product) {
  if (!product.flash) return;
  const read = performance.now();
  const card = {
    el,
    product,
    startAt: read + product.flash.seconds_to_start * 1000,
    endAt: read + product.flash.seconds_left * 1000,
  };
  cards.add(card);
  render(card);
}

setInterval(() => {
  for (const card of cards) {
    if (card.el.isConnected) render(card);
    else cards.delete(card);
  }
}, 1000);

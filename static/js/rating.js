// A product's reviews in short on a card ("★ 4.6 (12)"), from the card's product.rating:
// video pins in the feed, and the pin card and shelf of a live room.

import { t } from "./api.js";

/** Fill el (a .pin-rating span) from product.rating, or hide it before the first review. */
export function showRating(el, product) {
  if (!el) return;
  const rating = product.rating;
  el.hidden = !rating;
  if (!rating) return;
  const average = Number(rating.average).toFixed(1);
  el.textContent = `★ ${average} (${rating.count})`;
  el.setAttribute("aria-label", t("rating_label", { avg: average, num: rating.count }));
  el.setAttribute("role", "img");
}

/** A new .pin-rating span for cards built in code (the live shelf). */
export function ratingSpan(product) {
  const el = document.createElement("span");
  el.className = "pin-rating";
  showRating(el, product);
  return el;
}

// The feed's right rail: the creator's follow "+", like and favourite with their counts, the
// comments slot (filled by the comments code), share (share.js) and the products pinned.
// Anonymous viewers are sent to log in and come back; the answers of the API are what show.

import { api, compactNumber, t, tn } from "./api.js";
import { showFollowState } from "./follow.js";

const feedEl = document.getElementById("feed");
const viewerId = Number(feedEl.dataset.viewerId || 0);

function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign(`${feedEl.dataset.loginUrl}?next=${encodeURIComponent(next)}`);
}

function showReaction(rail, data) {
  const like = rail.querySelector(".like-button");
  like.setAttribute("aria-pressed", String(Boolean(data.liked)));
  like.setAttribute(
    "aria-label",
    t(data.liked ? "unlike_label" : "likes_label", { num: data.like_count }),
  );
  rail.querySelector(".like-count").textContent = compactNumber(data.like_count);
  const favourite = rail.querySelector(".favourite-button");
  favourite.setAttribute("aria-pressed", String(Boolean(data.favourited)));
  favourite.setAttribute(
    "aria-label",
    t(data.favourited ? "unfavourite_label" : "favourite_label", { num: data.favourite_count }),
  );
  rail.querySelector(".favourite-count").textContent = compactNumber(data.favourite_count);
}

async function react(button, data, kind, rail, onError) {
  if (!viewerId) {
    toLogin();
    return;
  }
  const on = button.getAttribute("aria-pressed") === "true";
  const url = feedEl.dataset[`${kind}Url`].replace("__ID__", encodeURIComponent(data.id));
  button.disabled = true;
  try {
    const result = await api(on ? "DELETE" : "PUT", url);
    Object.assign(data, {
      liked: result.liked,
      favourited: result.favourited,
      like_count: result.like_count,
      favourite_count: result.favourite_count,
    });
    showReaction(rail, data);
  } catch (error) {
    onError(error.message);
  } finally {
    button.disabled = false;
  }
}

/** Fill in and wire the rail of one feed item. `onError(text)` shows a failure. */
export function setUpRail(el, data, onError) {
  const rail = el.querySelector(".feed-side");
  const follow = rail.querySelector(".rail-follow");
  const creator = data.creator;
  if (creator.followable && creator.id !== viewerId) {
    follow.hidden = false;
    follow.dataset.userId = String(creator.id);
    follow.dataset.name = creator.display_name;
    follow.dataset.url = feedEl.dataset.followUrl.replace("__ID__", String(creator.id));
    showFollowState(follow, Boolean(creator.following));
    if (!viewerId) {
      follow.dataset.bound = "feed"; // follow.js leaves it to us: log in first
      follow.addEventListener("click", toLogin);
    }
  }
  showReaction(rail, data);
  rail.querySelector(".like-button").addEventListener("click", (event) => {
    react(event.currentTarget, data, "like", rail, onError);
  });
  rail.querySelector(".favourite-button").addEventListener("click", (event) => {
    react(event.currentTarget, data, "favourite", rail, onError);
  });

  const count = data.product_count || 0;
  const products = rail.querySelector(".rail-products-action");
  if (count > 0) {
    products.hidden = false;
    rail.querySelector(".products-count").textContent = compactNumber(count);
    const button = rail.querySelector(".products-button");
    button.setAttribute("aria-label", tn("products", count, { num: count }));
    const stack = el.querySelector(".pin-stack");
    button.addEventListener("click", () => {
      // Every pinned product at once, whatever the moment of the video; again: back to timed.
      const all = stack.dataset.showAll !== "true";
      stack.dataset.showAll = String(all);
      button.setAttribute("aria-expanded", String(all));
      el.dispatchEvent(new CustomEvent("pins-changed"));
    });
  }
}

// Follow buttons (.follow-button, on profile pages and the feed's rail): one request, then
// every button and follower count of that account on the page shows the answer.

import { api, compactNumber } from "./api.js";

let strings = null;
function s(key, vars = {}) {
  if (strings === null) {
    const node = document.getElementById("follow-i18n");
    strings = node ? JSON.parse(node.textContent) : {};
  }
  const text = strings[key] || key;
  return text.replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Show `following` on one button (text, pressed state, label). */
export function showFollowState(button, following) {
  button.setAttribute("aria-pressed", String(following));
  button.classList.toggle("primary", !following);
  button.classList.toggle("is-following", following);
  const name = button.dataset.name || "";
  const label = button.querySelector(".follow-label");
  if (label) {
    label.textContent = following ? s("following") : s("follow");
    button.setAttribute("aria-label", s(following ? "unfollow_name" : "follow_name", { name }));
  } else {
    button.textContent = following ? s("following") : s("follow");
  }
}

function showCount(userId, count) {
  for (const el of document.querySelectorAll(`[data-follower-count-for="${userId}"]`)) {
    el.dataset.count = String(count);
    const one = count === 1 ? "followers_one" : "followers_other";
    el.textContent = s(one).replace("%(num)s", compactNumber(count));
  }
}

/** Follow or unfollow the button's account; every button of that account follows along. */
export async function toggleFollow(button) {
  const following = button.getAttribute("aria-pressed") === "true";
  button.disabled = true;
  try {
    const result = await api(following ? "DELETE" : "PUT", button.dataset.url);
    for (const other of document.querySelectorAll(
      `.follow-button[data-user-id="${result.user_id}"]`,
    )) {
      showFollowState(other, result.following);
    }
    showCount(result.user_id, result.follower_count);
    document.dispatchEvent(new CustomEvent("follow-changed", { detail: result }));
    return result;
  } finally {
    button.disabled = false;
  }
}

// Pages whose buttons the server rendered; the feed binds its own (they come and go).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest(".follow-button") : null;
  if (!button || button.dataset.bound === "feed") return;
  event.preventDefault();
  toggleFollow(button).catch((error) => {
    const status = document.getElementById("follow-status");
    if (status) {
      status.textContent = error.message;
      status.hidden = false;
    }
  });
});

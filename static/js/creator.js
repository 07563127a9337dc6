// Creator page: "More videos" loads the next page of the creator's published videos.

import { api, showError, t, tn } from "./api.js";

const grid = document.getElementById("creator-videos");
const button = document.getElementById("creator-more");
const errorEl = document.getElementById("creator-error");
const template = document.getElementById("video-thumb-template");

function renderThumb(video) {
  const li = template.content.firstElementChild.cloneNode(true);
  const link = li.querySelector("a");
  link.href = video.url;
  const img = li.querySelector("img");
  if (video.poster_url) {
    img.src = video.poster_url;
    img.hidden = false;
    li.querySelector(".poster-placeholder").hidden = true;
  }
  li.querySelector(".video-thumb-title").textContent = video.title || t("untitled");
  li.querySelector(".video-thumb-views").textContent = tn("views", video.view_count);
  return li;
}

if (grid && button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    const params = new URLSearchParams({
      cursor: button.dataset.cursor,
      creator_id: grid.dataset.creatorId,
      limit: "30",
    });
    try {
      const page = await api("GET", `${grid.dataset.feedUrl}?${params}`);
      showError(errorEl, null);
      grid.append(...page.items.map(renderThumb));
      if (page.next_cursor) {
        button.dataset.cursor = page.next_cursor;
        button.disabled = false;
      } else {
        button.closest(".load-more").remove();
      }
    } catch (err) {
      showError(errorEl, err);
      button.disabled = false;
    }
  });
}

// Scheduling or editing a live: the details through the JSON API, then the cover if one was
// chosen, then on to the room's control page.

import { api, csrfToken, errorFromBody, showError, t } from "./api.js";
import { localTimes } from "./live-common.js";

const form = document.getElementById("room-form");
const errorBox = document.getElementById("room-error");
const status = document.getElementById("room-status");
const scheduled = document.getElementById("room-scheduled");
const cover = document.getElementById("room-cover");
const filter = document.getElementById("product-filter");

const pad = (n) => String(n).padStart(2, "0");

// datetime-local holds the host's local time; the server keeps UTC.
if (scheduled.dataset.utc) {
  const at = new Date(scheduled.dataset.utc.endsWith("Z") ? scheduled.dataset.utc : scheduled.dataset.utc + "Z");
  scheduled.value = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

if (filter) {
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    for (const item of document.querySelectorAll("#shelf-picker li")) {
      item.hidden = Boolean(needle) && !item.textContent.toLowerCase().includes(needle);
    }
  });
}

async function uploadCover(url) {
  const body = new FormData();
  body.append("image", cover.files[0]);
  const response = await fetch(url, {
    method: "PUT",
    body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    throw errorFromBody(response.status, data);
  }
}

const inputs = {
  title: document.getElementById("room-title"),
  description: document.getElementById("room-description"),
  scheduled_at: scheduled,
  image: cover,
};
const labels = {
  title: t("title_label"),
  description: t("description_label"),
  scheduled_at: t("scheduled_label"),
  featured_product_ids: t("products_label"),
  image: t("image_label"),
};

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(errorBox, null, { inputs });
  const title = inputs.title.value.trim();
  if (!title) {
    showError(errorBox, { message: t("need_title"), fields: {} }, { inputs });
    inputs.title.setAttribute("aria-invalid", "true");
    inputs.title.focus();
    return;
  }
  const body = {
    title,
    description: inputs.description.value,
    scheduled_at: scheduled.value ? new Date(scheduled.value).toISOString() : null,
    featured_product_ids: [...form.querySelectorAll('input[name="product"]:checked')].map((box) => Number(box.value)),
  };
  const save = document.getElementById("room-save");
  save.disabled = true;
  status.textContent = t("saving");
  try {
    const editing = form.dataset.method === "PATCH";
    const room = await api(editing ? "PATCH" : "POST", editing ? form.dataset.roomUrl : form.dataset.createUrl, body);
    if (!editing) {
      // Saved: a retry (say, of a failed cover upload) edits this room rather than making another.
      form.dataset.method = "PATCH";
      form.dataset.roomUrl = form.dataset.createUrl + "/" + encodeURIComponent(room.id);
    }
    if (cover.files.length) await uploadCover(form.dataset.coverUrlTemplate.replace("__ID__", encodeURIComponent(room.id)));
    status.textContent = t("saved");
    window.location.href = form.dataset.controlUrl.replace("__ID__", encodeURIComponent(room.id));
  } catch (error) {
    status.textContent = "";
    showError(errorBox, error, { labels, inputs });
    errorBox.focus?.();
  } finally {
    save.disabled = false;
  }
});

localTimes();

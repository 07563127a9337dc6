// Share buttons: ask the API for this person's signed link, then show it with a copy button and
// its QR code. One dialog per page; buttons anywhere (also inside feed items rendered later).
import { api, showError } from "./api.js";

const dialog = document.getElementById("share-dialog");

function targetOf(button) {
  const kind = button.dataset.targetKind;
  let key = button.dataset.targetKey;
  if (!key) {
    const holder = button.closest("[data-video-id]");
    key = holder ? holder.dataset.videoId : "";
  }
  return { kind, key };
}

function reset() {
  dialog.querySelector(".share-loading").hidden = false;
  dialog.querySelector(".share-result").hidden = true;
  dialog.querySelector(".share-copied").textContent = "";
  showError(dialog.querySelector(".share-error"), null);
}

async function openShare(button) {
  const { kind, key } = targetOf(button);
  reset();
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  try {
    const share = await api("POST", dialog.dataset.createUrl, { target_kind: kind, target_key: key });
    const input = dialog.querySelector(".share-link");
    input.value = share.url;
    dialog.querySelector(".share-qr").src = share.qr_svg_url;
    dialog.querySelector(".share-loading").hidden = true;
    dialog.querySelector(".share-result").hidden = false;
    input.focus();
    input.select();
  } catch (error) {
    if (error.status === 401) {
      const next = window.location.pathname + window.location.search;
      window.location.href = `${dialog.dataset.loginUrl}?next=${encodeURIComponent(next)}`;
      return;
    }
    dialog.querySelector(".share-loading").hidden = true;
    showError(dialog.querySelector(".share-error"), error);
  }
}

async function copyLink() {
  const input = dialog.querySelector(".share-link");
  const status = dialog.querySelector(".share-copied");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy"); // older browsers and plain-http origins
  }
  status.textContent = status.dataset.copied;
}

if (dialog) {
  // Capture phase: the feed's own click handlers (play/pause) must not see a share click.
  document.addEventListener(
    "click",
    (event) => {
      const button = event.target.closest && event.target.closest(".share-button");
      if (!button) return;
      event.preventDefault();
      event.stopPropagation();
      openShare(button);
    },
    true,
  );
  dialog.querySelector(".share-copy").addEventListener("click", copyLink);
  // Keys typed in the dialog are for the dialog, not the feed behind it (arrows, space, m).
  dialog.addEventListener("keydown", (event) => event.stopPropagation());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
}

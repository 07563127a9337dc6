// The report dialog: any [data-target-type][data-target-id].report-button opens it, and the
// comments sheet calls openReport() for a comment or the video. Sends POST /api/v1/reports.
import { api } from "./api.js";

const dialog = document.getElementById("report-dialog");
const form = document.getElementById("report-form");
const done = document.getElementById("report-done");
let target = null;
let after = null;

export function openReport(kind, id, onSent = null) {
  if (!dialog) return;
  target = { target_type: kind, target_id: String(id) };
  after = onSent;
  form.reset();
  form.querySelector(".report-error").hidden = true;
  dialog.showModal();
}

if (dialog) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = form.querySelector(".report-error");
    const send = form.querySelector(".report-send");
    send.disabled = true;
    try {
      await api("POST", dialog.dataset.reportUrl, {
        ...target,
        reason: form.elements.reason.value,
        text: form.elements.text.value,
      });
      dialog.close();
      if (after) {
        after(done.textContent);
      } else {
        done.hidden = false;
        setTimeout(() => (done.hidden = true), 4000);
      }
    } catch (error) {
      box.hidden = false;
      box.textContent = error.message;
    } finally {
      send.disabled = false;
    }
  });
  form.querySelector(".report-cancel").addEventListener("click", () => dialog.close());
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".report-button");
    if (button) openReport(button.dataset.targetType, button.dataset.targetId);
  });
}

// The Inbox tab's unread badge, kept current without a reload: the server sends
// "notifications.unread" to the signed-in user's room after each change commits; after a
// reconnect or a message-queue outage the count is read again from the API.
import { connection, onResync } from "./realtime.js";

const UNREAD_EVENT = "notifications.unread";

function show(label) {
  for (const badge of document.querySelectorAll("[data-inbox-badge]")) {
    badge.textContent = label;
    badge.hidden = !label;
  }
}

async function reread() {
  try {
    const response = await fetch("/api/v1/me/notifications/unread", { credentials: "same-origin" });
    if (response.ok) show((await response.json()).label);
  } catch (error) {
    console.warn("unread count not read", error);
  }
}

const socket = connection();
if (socket) {
  socket.on(UNREAD_EVENT, (payload) => {
    show(payload.label || "");
    if (payload.latest) {
      const fresh = document.querySelector("[data-inbox-new]");
      if (fresh) fresh.hidden = false;
    }
  });
  onResync(reread);
}

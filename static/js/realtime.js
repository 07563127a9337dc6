// The page's Socket.IO connection, and knowing when its events may have been missed. The
// server puts a signed-in browser in its own room on connect, so there is nothing to subscribe
// to. Needs /static/vendor/socket.io.min.js loaded as a classic script before this module (it
// defines window.io).
//
// Events can be missed in two ways, and a page that keeps state from events must then re-read
// it (its snapshot from the JSON API) and redraw, without a reload:
// - this socket reconnected (network, a restarted server): "reconnect";
// - the server's message queue (Redis) was away: other processes' events published meanwhile
//   are gone for good, and the server says so with a "resync" event once Redis is back
//   (commerce/message_queue.py): "resync". The socket itself never dropped.

export const PROGRESS_EVENT = "video.progress";
export const RESYNC_EVENT = "resync";

let shared = null;
const resyncHandlers = new Set();

function resync(reason) {
  for (const handler of [...resyncHandlers]) {
    try {
      handler(reason);
    } catch (error) {
      console.error(error);
    }
  }
}

/** The page's one connection (made at the first call), or null without the client library. */
export function connection() {
  if (shared || typeof window.io !== "function") return shared;
  shared = window.io({ withCredentials: true });
  let connects = 0;
  shared.on("connect", () => {
    connects += 1;
    if (connects > 1) resync("reconnect");
  });
  shared.on(RESYNC_EVENT, () => resync("resync"));
  return shared;
}

/**
 * fn(reason) whenever events may have been missed: reason is "resync" (the server's message
 * queue came back) or "reconnect" (this connection came back). Returns a function removing fn.
 */
export function onResync(fn) {
  connection();
  resyncHandlers.add(fn);
  return () => resyncHandlers.delete(fn);
}

/**
 * onProgress({id, state, progress, playable, error}) for every event;
 * onConnect(isReconnect) after each (re)connection, and onConnect(true) after a resync, when
 * events may have been missed. Returns the socket, or null when the client library is missing.
 */
export function followProgress({ onProgress, onConnect = null }) {
  const socket = connection();
  if (!socket) return null;
  if (onConnect) {
    if (socket.connected) onConnect(false);
    else socket.once("connect", () => onConnect(false));
    onResync(() => onConnect(true));
  }
  socket.on(PROGRESS_EVENT, (payload) => {
    if (payload && typeof payload.id === "string") onProgress(payload);
  });
  return socket;
}

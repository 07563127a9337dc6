// Following video processing over Socket.IO. The server puts a signed-in browser in its own
// room on connect, so there is nothing to subscribe to. Needs /static/vendor/socket.io.min.js
// loaded as a classic script before this module (it defines window.io).

export const PROGRESS_EVENT = "video.progress";

/**
 * onProgress({id, state, progress, playable, error}) for every event;
 * onConnect(isReconnect) after each (re)connection, when events may have been missed.
 * Returns the socket, or null when the client library is missing.
 */
export function followProgress({ onProgress, onConnect = null }) {
  if (typeof window.io !== "function") return null;
  const socket = window.io({ withCredentials: true });
  let connections = 0;
  socket.on("connect", () => {
    connections += 1;
    if (onConnect) onConnect(connections > 1);
  });
  socket.on(PROGRESS_EVENT, (payload) => {
    if (payload && typeof payload.id === "string") onProgress(payload);
  });
  return socket;
}

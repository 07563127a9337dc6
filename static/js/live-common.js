// What the live pages share: the room's Socket.IO connection (join -> snapshot, again after every
// reconnect, and the snapshot from the JSON API after the server's resync), the chat list
// (textContent only; links only where the server made them), the server's clock, and local
// times. Needs /static/vendor/socket.io.min.js for connectRoom().

import { api, pageLang } from "./api.js";
import { connection, onResync } from "./realtime.js";

export { formatMoney } from "./api.js";

let liveStrings = null;

/** A string of the shared live table (#live-i18n), %(name)s filled from vars. */
export function lt(key, vars = {}) {
  if (liveStrings === null) {
    const node = document.getElementById("live-i18n");
    try {
      liveStrings = node ? JSON.parse(node.textContent) : {};
    } catch {
      liveStrings = {};
    }
  }
  const text = Object.prototype.hasOwnProperty.call(liveStrings, key) ? liveStrings[key] : key;
  return String(text).replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** The server sends naive UTC times. */
export function parseUtc(text) {
  if (!text) return NaN;
  return Date.parse(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : text + "Z");
}

/** The server's clock: offset = server time minus this browser's, from each payload's server_now. */
export const clock = {
  offset: 0,
  sync(serverNow) {
    const at = parseUtc(serverNow);
    if (Number.isFinite(at)) this.offset = at - Date.now();
  },
  now() {
    return Date.now() + this.offset;
  },
};

export function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function formatLocal(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  const at = typeof value === "number" ? value : parseUtc(value);
  if (!Number.isFinite(at)) return "";
  try {
    return new Intl.DateTimeFormat(pageLang(), options).format(new Date(at));
  } catch {
    return new Date(at).toLocaleString();
  }
}

/** <time datetime="...Z" data-local>: rewrite the server's UTC text in the reader's time zone. */
export function localTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-local]")) {
    const text = formatLocal(el.getAttribute("datetime"));
    if (text) el.textContent = text;
  }
}


/** "12.30" -> 1230 (JPY: whole units); null when it is not a price. */
export function toMinor(text, currency) {
  const digits = currency === "JPY" ? 0 : 2;
  const clean = String(text).trim();
  if (!(digits ? /^\d+(\.\d{1,2})?$/ : /^\d+$/).test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 10 ** digits + Number((fraction + "00").slice(0, digits) || 0);
}

export function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// ---------------------------------------------------------------- the room's connection

// After the server's resync, how long to wait for its pushed snapshot before asking for one.
const PUSH_WAIT_MS = 1500;

/**
 * Join a room and follow it. handlers: snapshot(snap, isReconnect), refused(error), pins(list),
 * chat(messages), chatDeleted(ids), counters(payload), state(payload), settings(payload),
 * permissions(payload), stream(payload) (the media: live / waiting / ended), replay(payload)
 * (the replay video is published), status("online" | "offline").
 * Returns { socket, emit(name, data) -> Promise(ack) }, or null without the client library.
 */
export function connectRoom(room, handlers) {
  const socket = connection();
  if (!socket) return null;
  const call = (name, ...args) => {
    const handler = handlers[name];
    if (typeof handler === "function") handler(...args);
  };
  let joins = 0;
  let pinsVersion = -1;
  let permissions = null; // this viewer's, from the last join or permissions event
  let pushes = 0;
  const mine = (payload) => payload && payload.room === room;
  const apply = (snapshot) => {
    joins += 1;
    pinsVersion = snapshot.pins.version;
    permissions = snapshot.permissions;
    clock.sync(snapshot.server_now);
    call("snapshot", snapshot, joins > 1);
  };

  const join = () => {
    call("status", "online");
    socket.emit("live.join", { room }, (ack) => {
      if (!ack || !ack.ok) {
        call("refused", (ack && ack.error) || {});
        return;
      }
      apply(ack.snapshot);
    });
  };
  socket.on("connect", join);
  if (socket.connected) join();

  // The connection stayed up but the server's message queue was away: events of other
  // processes are lost, so redraw from a snapshot (a reconnect re-joins, which gives one). The
  // server pushes the room's snapshot to all its viewers at once (live.snapshot, without
  // permissions: ours are kept); without a push soon, ask the JSON API.
  async function fetchSnapshot() {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let snapshot;
      try {
        snapshot = await api("GET", `/api/v1/live/rooms/${encodeURIComponent(room)}/snapshot`);
      } catch {
        return; // a refused or failed read: the next event or resync tells
      }
      // A pins event newer than the snapshot may have come meanwhile: read again.
      if (snapshot.pins.version >= pinsVersion) {
        apply(snapshot);
        return;
      }
    }
  }
  socket.on("live.snapshot", (snapshot) => {
    if (!snapshot || !snapshot.room || snapshot.room.id !== room || permissions === null) return;
    pushes += 1;
    if (snapshot.pins.version >= pinsVersion) apply({ ...snapshot, permissions });
  });
  onResync((reason) => {
    if (reason !== "resync") return;
    const before = pushes;
    setTimeout(() => {
      if (pushes === before) fetchSnapshot();
    }, PUSH_WAIT_MS);
  });
  socket.on("disconnect", () => call("status", "offline"));
  socket.on("live.pins", (payload) => {
    // Events can cross: a client keeps the highest version it has seen.
    if (!mine(payload) || payload.version < pinsVersion) return;
    pinsVersion = payload.version;
    clock.sync(payload.server_now);
    call("pins", payload);
  });
  socket.on("live.chat", (payload) => mine(payload) && call("chat", payload.messages || []));
  socket.on("live.chat_deleted", (payload) => mine(payload) && call("chatDeleted", payload.ids || []));
  socket.on("live.counters", (payload) => mine(payload) && call("counters", payload));
  socket.on("live.state", (payload) => mine(payload) && call("state", payload));
  socket.on("live.settings", (payload) => mine(payload) && call("settings", payload));
  socket.on("live.permissions", (payload) => {
    if (!mine(payload)) return;
    permissions = payload;
    call("permissions", payload);
  });
  socket.on("live.stream", (payload) => mine(payload) && call("stream", payload));
  socket.on("live.replay", (payload) => mine(payload) && call("replay", payload));

  return {
    socket,
    connected: () => socket.connected,
    emit(name, data) {
      return new Promise((resolve) => {
        socket.timeout(8000).emit(name, { room, ...data }, (err, ack) => {
          resolve(err ? { ok: false, error: { code: "timeout", message: lt("error_network") } } : ack);
        });
      });
    },
  };
}

// ---------------------------------------------------------------- chat

const LINK_SCHEMES = /^https?:\/\//i;

/**
 * The message's body as DOM nodes built with textContent. The server's `html` is escaped and
 * holds <a> only where the author may post links; it is read in an inert document and only its
 * text and its http(s) links are copied, so nothing the author typed can become markup.
 */
export function messageBody(message) {
  const body = document.createElement("span");
  body.className = "chat-text";
  if (typeof message.html !== "string" || !message.html.includes("<a")) {
    body.textContent = message.text;
    return body;
  }
  const doc = new DOMParser().parseFromString(`<body>${message.html}</body>`, "text/html");
  for (const node of doc.body.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "A") {
      const href = node.getAttribute("href") || "";
      if (LINK_SCHEMES.test(href)) {
        const link = document.createElement("a");
        link.href = href;
        link.textContent = node.textContent;
        link.rel = "nofollow noopener ugc";
        link.target = "_blank";
        body.append(link);
        continue;
      }
    }
    body.append(document.createTextNode(node.textContent));
  }
  return body;
}

/**
 * A chat pane: an <ol> of messages (newest last, capped), and an aria-live region announcing
 * the newest message of each batch. moderation(message) may return action buttons for a row.
 */
export class ChatList {
  constructor(listEl, announcerEl, { max = 200, moderation = null } = {}) {
    this.list = listEl;
    this.announcer = announcerEl;
    this.max = max;
    this.moderation = moderation;
    this.ids = new Set();
  }

  row(message) {
    const li = document.createElement("li");
    li.className = "chat-message";
    li.dataset.messageId = String(message.id);
    li.dataset.role = message.author_role;
    const name = document.createElement("span");
    name.className = "chat-author";
    name.textContent = message.author.display_name;
    li.append(name);
    if (message.author_role === "creator" || message.author_role === "moderator") {
      const badge = document.createElement("span");
      badge.className = `chat-role role-${message.author_role}`;
      badge.textContent = lt(`role_${message.author_role}`);
      li.append(" ", badge);
    }
    li.append(" ", messageBody(message));
    if (this.moderation) {
      const actions = this.moderation(message, li);
      if (actions) li.append(actions);
    }
    return li;
  }

  reset(messages) {
    this.ids.clear();
    this.list.replaceChildren();
    this.add(messages, { announce: false });
  }

  add(messages, { announce = true } = {}) {
    const nearBottom =
      this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    let last = null;
    for (const message of messages) {
      if (this.ids.has(message.id)) continue;
      this.ids.add(message.id);
      this.list.append(this.row(message));
      last = message;
    }
    while (this.list.children.length > this.max) {
      const first = this.list.firstElementChild;
      this.ids.delete(Number(first.dataset.messageId));
      first.remove();
    }
    if (nearBottom || !announce) this.list.scrollTop = this.list.scrollHeight;
    if (announce && last && this.announcer) {
      this.announcer.textContent = lt("announce", {
        name: last.author.display_name,
        text: last.text,
      });
    }
  }

  remove(ids) {
    for (const id of ids) {
      const row = this.list.querySelector(`[data-message-id="${Number(id)}"]`);
      if (row) row.remove();
      this.ids.delete(Number(id));
    }
  }
}

localTimes();

// The watch page of a room's replay: the chat and the flash sales at their moments, following
// the video's time. Pins come from the video itself (feed.js). The timeline is the ingest side's
// /replay-timeline; until it exists, the chat is placed by its times from the room's start.
// A flash sale is told as what happened in the live, over and with today's price beside it: a
// replay buyer pays the price on the pin card, never the flash price.

import { api } from "./api.js";
import { ChatList, parseUtc } from "./live-common.js";

const panel = document.getElementById("replay-panel");
const strings = JSON.parse(document.getElementById("replay-i18n").textContent);
const API = panel.dataset.api;
const VIDEO_ID = panel.dataset.videoId;
const flashEl = document.getElementById("replay-flash");
const chat = new ChatList(document.getElementById("replay-chat"), null, { max: 60 });

function fill(text, vars) {
  return text.replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Seconds from the start of the show, whatever the timeline calls it. */
function offsetOf(item) {
  for (const key of ["offset_s", "offset", "start_s", "at_s", "offset_seconds"]) {
    if (typeof item[key] === "number") return item[key];
  }
  return NaN;
}

function endOf(item) {
  for (const key of ["end_offset_s", "end_s", "end_offset", "ends_offset_s"]) {
    if (typeof item[key] === "number") return item[key];
  }
  return Infinity;
}

const timeline = { chat: [], flash: [] };
let shownUpTo = -1;

async function load() {
  try {
    const data = await api("GET", `${API}/replay-timeline`);
    timeline.chat = (data.chat || []).map((m) => ({ ...m, at: offsetOf(m) })).filter((m) => Number.isFinite(m.at));
    const products = new Map((data.pins || []).map((pin) => [pin.id, pin.product]));
    timeline.flash = (data.flash_sales || []).map((f) => ({
      ...f,
      at: offsetOf(f),
      end: endOf(f),
      product: products.get(f.pin_id) || null,
    }));
  } catch {
    // No timeline yet: place the room's last messages by their time since the show started.
    try {
      const [room, page] = await Promise.all([api("GET", API), api("GET", `${API}/chat`)]);
      const start = parseUtc(room.started_at);
      if (!Number.isFinite(start)) return;
      timeline.chat = page.items.map((m) => ({ ...m, at: (parseUtc(m.created_at) - start) / 1000 }));
    } catch {
      panel.hidden = true;
    }
  }
  timeline.chat.sort((a, b) => a.at - b.at);
  if (!timeline.chat.length && !timeline.flash.length) panel.hidden = true;
}

function update(seconds) {
  if (seconds < shownUpTo) {
    chat.reset([]); // the viewer went back: draw again from the start
    shownUpTo = -1;
  }
  chat.add(
    timeline.chat.filter((m) => m.at <= seconds && m.at > shownUpTo),
    { announce: false },
  );
  shownUpTo = seconds;
  const flash = timeline.flash.find((f) => f.at <= seconds && seconds < f.end);
  flashEl.hidden = !flash;
  if (flash) {
    const product = flash.product; // null when its product is no longer on sale
    flashEl.textContent = product
      ? fill(strings.flash, { title: product.title, price: flash.price_display, now: product.price_display })
      : fill(strings.flash_untitled, { price: flash.price_display });
  }
}

// timeupdate does not bubble, but the capture phase still passes through the document.
document.addEventListener(
  "timeupdate",
  (event) => {
    const video = event.target;
    if (video instanceof HTMLVideoElement && video.dataset.videoId === VIDEO_ID) update(video.currentTime);
  },
  true,
);

load();

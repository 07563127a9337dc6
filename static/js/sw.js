// The service worker (served by /sw.js, which fills in the version and the precache list).
// Pages are never stored: they name the signed-in person and hold their orders. Navigations go
// to the network and, when it is unreachable, get the offline page. Static files are served from
// the cache of this version and refreshed behind; the API, media and sockets pass untouched.

const VERSION = "__VERSION__";
const PRECACHE = ["__PRECACHE__"];
const CACHE = `liveshop-static-${VERSION}`;
const OFFLINE_URL = PRECACHE[0];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      // The browser sends each navigation itself, with its own Sec-Fetch-User and Sec-Fetch-Site
      // (a share link counts only a navigation the user made); a fetch from here would not.
      .then(() => self.registration.navigationPreload && self.registration.navigationPreload.enable())
      .then(() => self.clients.claim()),
  );
});

async function navigation(event) {
  try {
    const preloaded = await event.preloadResponse;
    if (preloaded) return preloaded;
    return await fetch(event.request);
  } catch {
    return caches.match(OFFLINE_URL);
  }
}

async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok && response.type === "basic") cache.put(request, response.clone());
      return response;
    })
    .catch(() => cached);
  return cached || fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigation(event));
  } else if (url.pathname.startsWith("/static/") && !request.headers.has("range")) {
    event.respondWith(staticFile(request));
  }
});

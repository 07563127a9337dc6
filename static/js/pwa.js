// Installs the service worker (static/js/sw.js, served at /sw.js): the offline page and static
// files; nothing personal is stored. Browsers without service workers simply skip it.
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
}

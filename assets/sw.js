// Hindsight's service worker: lets a board page open while the server is unreachable,
// so an offline reload still shows (from the copy in localStorage) and keeps every edit.
//
// Network first: whatever the server answers wins and refreshes the cache; the cache is
// only used when the network fails. Only the page and its static files are cached; the
// API and the WebSocket are never touched.
const CACHE = "hindsight-shell-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const shell = url.pathname === "/" || url.pathname.startsWith("/b/");
  const asset = /^\/[^/]+\.(js|wasm|css|svg)$/.test(url.pathname);
  if (request.method !== "GET" || url.origin !== self.location.origin || !(shell || asset)) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      .catch(() =>
        caches.match(request, { ignoreSearch: true }).then((hit) => hit || Response.error()),
      ),
  );
});

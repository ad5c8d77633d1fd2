/* Pointcare service worker (served from /sw.js by web/shell.py, which fills in the two values).
   Keeps ONLY the static shell and the offline page, stored once at install. Nothing is added
   at run time: pages, API answers, DICOMweb and photos go to the network and are never stored.
   A page that cannot load (offline) gets the offline page, which holds no patient data. */
"use strict";

const CACHE = {{ cache_name|tojson }};
const SHELL = new Set({{ shell_urls|tojson }});
const OFFLINE = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...SHELL].map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Every other cache is an older shell: gone, so that no stale file outlives a release.
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE, { cacheName: CACHE })));
    return;
  }
  if (url.search === "" && SHELL.has(url.pathname)) {
    event.respondWith(
      caches.match(request, { cacheName: CACHE }).then((kept) => kept || fetch(request))
    );
  }
  // Anything else: not handled here, so the browser goes to the network as without a worker.
});

/* Registers the service worker that keeps the app shell for offline starts (see /sw.js).
   It never stores patient data; browsers without service workers simply go without. */
"use strict";

if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      // No worker (private mode, blocked by policy): the app works online as before.
    });
  });
}

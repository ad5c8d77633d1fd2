// htmx (2.x) writes the page's path and query into sessionStorage when it loads
// ("htmx-current-path-for-history"), on every page and whatever its config says. A path such as
// /bedside/confirm?mrn=... names a patient, and nothing about a patient may stay in the browser's
// storage. Pointcare keeps no htmx history (historyCacheSize 0), so the entry is removed as soon
// as htmx has written it, and again whenever htmx touches history.
"use strict";
(function () {
  var KEYS = ["htmx-current-path-for-history", "htmx-history-cache"];

  function forget() {
    try {
      KEYS.forEach(function (key) {
        sessionStorage.removeItem(key);
      });
    } catch (error) {
      // storage blocked altogether: nothing was written either
    }
  }

  forget();
  ["htmx:pushedIntoHistory", "htmx:replacedInHistory", "htmx:historyRestore", "htmx:afterSettle"].forEach(function (name) {
    document.addEventListener(name, forget);
  });
  window.addEventListener("pagehide", forget);
})();

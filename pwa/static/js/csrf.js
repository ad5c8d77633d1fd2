// Sends the page's CSRF token (the csrf-token meta tag) with every htmx request that changes
// something; the server refuses state-changing browser requests without it.
"use strict";
document.addEventListener("htmx:configRequest", function (event) {
  var verb = (event.detail.verb || "get").toLowerCase();
  if (verb === "get") {
    return;
  }
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) {
    event.detail.headers["X-CSRF-Token"] = meta.content;
  }
});

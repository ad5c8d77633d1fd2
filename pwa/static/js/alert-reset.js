// Clears the page's alert area when a new request starts, so an old error never lingers
// beside a fresh answer.
"use strict";
document.addEventListener("htmx:beforeRequest", function () {
  var alert = document.getElementById("alert");
  if (alert) {
    alert.replaceChildren();
  }
});

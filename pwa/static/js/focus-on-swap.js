// Moves keyboard and screen-reader focus to the element marked data-focus in content htmx has
// just swapped in (or in a page that has just loaded): "Stored", the error summary, results.
"use strict";
(function () {
  function focusIn(root) {
    if (!root || root.nodeType !== 1) {
      return;
    }
    var target = root.matches("[data-focus]") ? root : root.querySelector("[data-focus]");
    if (target) {
      target.focus();
    }
  }
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt !== document.body) {
      focusIn(event.detail.elt);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    focusIn(document.getElementById("main"));
  });
})();

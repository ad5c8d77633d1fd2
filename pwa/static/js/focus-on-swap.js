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
      target.focus({ preventScroll: true });
      showBelowBanner(target);
    }
  }
  // The sticky patient banner covers the top of the window: "Stored" must appear below it, not
  // under it (a tablet that sent from further down the form scrolls up to it).
  function showBelowBanner(target) {
    var banner = document.querySelector(".patient-banner");
    var covered = banner ? banner.getBoundingClientRect().bottom : 0;
    var top = target.getBoundingClientRect().top;
    if (top < covered || top > window.innerHeight - 48) {
      window.scrollBy(0, top - covered - 8);
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

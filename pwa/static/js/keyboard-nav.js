// Keyboard shortcuts on review pages: a link marked data-shortcut="ArrowRight" is followed when
// that key is pressed (not while typing in a field, not with a modifier key).
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.defaultPrevented) {
    return;
  }
  var target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) {
    return;
  }
  var link = document.querySelector('a[data-shortcut="' + CSS.escape(event.key) + '"]');
  if (link) {
    event.preventDefault();
    link.click();
  }
});

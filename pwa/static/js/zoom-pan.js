// Zoom and pan, kept in step across every photo of a [data-zoom-group] (the compare page) or
// on a single photo. Mouse wheel, pinch, drag, and keys (+, -, 0, arrows) on a focused photo.
// The first image is screen-sized; once zoomed past 1.5x, each loads its full resolution.
(function () {
  "use strict";

  var MIN = 1;
  var MAX = 8;
  var STEP = 1.25;
  var PAN_KEY = 0.08;

  function setup(group) {
    var stages = Array.prototype.slice.call(group.querySelectorAll("[data-zoom-stage]"));
    var state = { scale: 1, x: 0, y: 0 }; // x, y: offset as a fraction of the stage size
    var pointers = new Map();
    var pinchStart = null;

    function clamp() {
      state.scale = Math.min(MAX, Math.max(MIN, state.scale));
      var room = (state.scale - 1) / 2;
      state.x = Math.min(room, Math.max(-room, state.x));
      state.y = Math.min(room, Math.max(-room, state.y));
    }

    function apply() {
      clamp();
      stages.forEach(function (stage) {
        var img = stage.querySelector("img");
        if (!img) return;
        img.style.transform =
          "translate(" + state.x * 100 + "%, " + state.y * 100 + "%) scale(" + state.scale + ")";
        if (state.scale > 1.5 && img.dataset.fullSrc && img.getAttribute("src") !== img.dataset.fullSrc) {
          img.src = img.dataset.fullSrc;
        }
      });
      group.classList.toggle("is-zoomed", state.scale > 1);
    }

    // Zoom by `factor` keeping the point (fx, fy) of the stage (fractions, 0..1) in place.
    function zoomAt(factor, fx, fy) {
      var before = state.scale;
      state.scale = Math.min(MAX, Math.max(MIN, before * factor));
      var ratio = state.scale / before;
      var cx = fx - 0.5;
      var cy = fy - 0.5;
      state.x = cx - (cx - state.x) * ratio;
      state.y = cy - (cy - state.y) * ratio;
      apply();
    }

    function fraction(stage, event) {
      var box = stage.getBoundingClientRect();
      return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
    }

    stages.forEach(function (stage) {
      stage.addEventListener(
        "wheel",
        function (event) {
          event.preventDefault();
          var at = fraction(stage, event);
          zoomAt(event.deltaY < 0 ? STEP : 1 / STEP, at[0], at[1]);
        },
        { passive: false }
      );
      stage.addEventListener("pointerdown", function (event) {
        stage.setPointerCapture(event.pointerId);
        pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (pointers.size === 2) {
          var p = Array.from(pointers.values());
          pinchStart = { distance: Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y), scale: state.scale };
        }
      });
      stage.addEventListener("pointermove", function (event) {
        var last = pointers.get(event.pointerId);
        if (!last) return;
        var box = stage.getBoundingClientRect();
        pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (pointers.size === 2 && pinchStart) {
          var p = Array.from(pointers.values());
          var distance = Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
          state.scale = pinchStart.scale * (distance / Math.max(pinchStart.distance, 1));
          apply();
        } else if (pointers.size === 1 && state.scale > 1) {
          state.x += (event.clientX - last.x) / box.width;
          state.y += (event.clientY - last.y) / box.height;
          apply();
        }
      });
      ["pointerup", "pointercancel"].forEach(function (type) {
        stage.addEventListener(type, function (event) {
          pointers.delete(event.pointerId);
          if (pointers.size < 2) pinchStart = null;
        });
      });
      stage.addEventListener("keydown", function (event) {
        var handled = true;
        if (event.key === "+" || event.key === "=") zoomAt(STEP, 0.5, 0.5);
        else if (event.key === "-") zoomAt(1 / STEP, 0.5, 0.5);
        else if (event.key === "0") { state = { scale: 1, x: 0, y: 0 }; apply(); }
        else if (event.key === "ArrowLeft" && state.scale > 1) { state.x += PAN_KEY; apply(); }
        else if (event.key === "ArrowRight" && state.scale > 1) { state.x -= PAN_KEY; apply(); }
        else if (event.key === "ArrowUp" && state.scale > 1) { state.y += PAN_KEY; apply(); }
        else if (event.key === "ArrowDown" && state.scale > 1) { state.y -= PAN_KEY; apply(); }
        else handled = false;
        if (handled) { event.preventDefault(); event.stopPropagation(); }
      });
    });

    var scope = group.closest("main") || document;
    function on(selector, action) {
      var button = group.querySelector(selector) || scope.querySelector(selector);
      if (button) button.addEventListener("click", action);
    }
    on("[data-zoom-in]", function () { zoomAt(STEP, 0.5, 0.5); });
    on("[data-zoom-out]", function () { zoomAt(1 / STEP, 0.5, 0.5); });
    on("[data-zoom-reset]", function () { state = { scale: 1, x: 0, y: 0 }; apply(); });
    apply();
  }

  function init() {
    document.querySelectorAll("[data-zoom-group]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

// Applies the body site's rules to the rest of the form as soon as a site is chosen:
// a paired site (forearm) needs Right, Left or Both; an unpaired one (sacrum) takes
// "Midline / unpaired" (the user may still pick a side); an intimate site turns "Sensitive image" on;
// the aspect offers only the faces the site has, in its own words ("palm side" of a hand). The
// server checks the same.
"use strict";
(function () {
  // chosen: the user has just picked this site (not a form rendered with carried-over tags).
  function apply(select, chosen) {
    var form = select.form;
    var option = select.selectedOptions[0];
    if (!form || !option || !option.value) {
      return;
    }
    var paired = option.dataset.paired === "true";
    var sides = form.querySelectorAll("input[name=laterality]");
    sides.forEach(function (side) {
      var unpaired = side.dataset.side === "U";
      side.required = paired;
      side.disabled = paired && unpaired;
      if (side.disabled) {
        side.checked = false;
      }
    });
    var side = form.querySelector("input[name=laterality]:checked");
    if (!paired && (chosen || !side)) {
      var midline = form.querySelector("input[name=laterality][data-side=U]");
      if (midline) {
        midline.checked = true;
      }
    }
    offerAspects(form, JSON.parse(option.dataset.aspects || "{}"));
    var sensitive = form.querySelector("[data-sensitive]");
    if (sensitive && option.dataset.intimate === "true") {
      sensitive.checked = true;
    }
  }

  function offerAspects(form, words) {
    form.querySelectorAll("select[data-aspect-select]").forEach(function (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) {
          return;
        }
        var word = words[option.value];
        option.hidden = !word;
        option.disabled = !word;
        if (word) {
          option.textContent = word.charAt(0).toUpperCase() + word.slice(1);
        }
      });
      if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
        select.value = "";
      }
      select.disabled = Object.keys(words).length === 0;
    });
  }

  function applyWithin(root) {
    if (root && root.querySelectorAll) {
      root.querySelectorAll("select[data-site-select]").forEach(function (select) {
        apply(select, false);
      });
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLSelectElement && event.target.matches("[data-site-select]")) {
      apply(event.target, true);
    }
  });
  document.addEventListener("htmx:load", function (event) {
    applyWithin(event.detail && event.detail.elt);
  });
  document.addEventListener("DOMContentLoaded", function () {
    applyWithin(document);
  });
})();

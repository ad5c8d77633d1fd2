// Says what is happening to a photo while it is sent: "Sending… 42%", then the server's answer
// replaces the form. When the network fails, the form stays as it is, photo included, and says
// so: sending again reuses the same capture_id, so a retry can never store the photo twice.
"use strict";
(function () {
  function parts(form) {
    var box = form.querySelector("[data-upload-status]");
    return box ? { box: box, bar: box.querySelector("progress"), text: box.querySelector("[data-upload-text]") } : null;
  }

  function show(form, percent, message, failed) {
    var ui = parts(form);
    if (!ui) {
      return;
    }
    ui.box.hidden = false;
    ui.box.classList.toggle("is-failed", Boolean(failed));
    if (ui.bar) {
      ui.bar.hidden = Boolean(failed);
      ui.bar.value = percent;
    }
    if (ui.text) {
      ui.text.textContent = message;
    }
  }

  function uploadForm(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.matches && elt.matches("form[data-upload-progress]") ? elt : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (form) {
      show(form, 0, "Sending… 0%", false);
    }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    if (form && event.detail.lengthComputable && event.detail.total > 0) {
      var percent = Math.min(100, Math.round((100 * event.detail.loaded) / event.detail.total));
      show(form, percent, percent < 100 ? "Sending… " + percent + "%" : "Storing…", false);
    }
  });
  function failed(event) {
    var form = uploadForm(event);
    if (form) {
      show(form, 0, "Not sent: Pointcare could not be reached. Your photo is still here. Check the connection, then tap Send photo again.", true);
    }
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
})();

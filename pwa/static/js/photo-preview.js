// Shows the chosen photo beside the form before it is sent, so the clinician can check it.
// The preview lives in memory only (an object URL, released when replaced). A photo the browser
// cannot draw (HEIC, in most browsers) is previewed by the server instead, which keeps nothing
// of it; failing that the frame says the photo will show once sent: never a broken image.
"use strict";
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function serverPreview(preview, file) {
    var data = new FormData();
    data.append("patient_id", preview.dataset.mrn || "");
    data.append("issuer", preview.dataset.issuer || "");
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", preview.dataset.inspectUrl);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      var looked = null;
      try { looked = xhr.status === 200 ? JSON.parse(xhr.responseText) : null; } catch (error) { looked = null; }
      if (looked && looked.preview) {
        preview.src = looked.preview;
        preview.hidden = false;
      } else {
        showNote(preview, true);
      }
    };
    xhr.onerror = function () { showNote(preview, true); };
    xhr.send(data);
  }

  function showNote(preview, shown) {
    var note = preview.parentElement.querySelector("[data-photo-preview-note]");
    if (note) note.hidden = !shown;
    if (shown) preview.hidden = true;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-photo-input]")) {
      return;
    }
    var preview = input.parentElement && input.parentElement.querySelector("[data-photo-preview]");
    if (!preview) {
      return;
    }
    if (preview.src && preview.src.indexOf("blob:") === 0) {
      URL.revokeObjectURL(preview.src);
    }
    preview.removeAttribute("src");
    showNote(preview, false);
    var file = input.files && input.files[0];
    if (!file) {
      preview.hidden = true;
      return;
    }
    preview.onerror = function () {
      preview.onerror = null;
      URL.revokeObjectURL(preview.src);
      preview.removeAttribute("src");
      preview.hidden = true;
      if (preview.dataset.inspectUrl) serverPreview(preview, file);
      else showNote(preview, true);
    };
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  });
})();

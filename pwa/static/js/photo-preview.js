// Shows the chosen photo beside the form before it is sent, so the clinician can check it.
// The preview lives in memory only (an object URL, released when replaced).
"use strict";
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.matches("[data-photo-input]")) {
    return;
  }
  var preview = input.parentElement && input.parentElement.querySelector("[data-photo-preview]");
  if (!preview) {
    return;
  }
  if (preview.src) {
    URL.revokeObjectURL(preview.src);
    preview.removeAttribute("src");
  }
  var file = input.files && input.files[0];
  if (file && file.type.indexOf("image/") === 0) {
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  } else {
    preview.hidden = true;
  }
});

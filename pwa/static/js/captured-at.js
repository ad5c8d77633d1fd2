// Records when the photo was taken, in the phone's local time with its UTC offset
// (2026-05-04T10:15:00+02:00), into the form's captured_at field, and where that time came
// from: the camera just now ("device"), or only the file's date ("file"), which the server
// replaces with the moment the photo itself records when it has one.
"use strict";
(function () {
  function pad(number) {
    return String(Math.abs(Math.trunc(number))).padStart(2, "0");
  }

  function localIso(moment) {
    var offset = -moment.getTimezoneOffset();
    return (
      moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) +
      "T" + pad(moment.getHours()) + ":" + pad(moment.getMinutes()) + ":" + pad(moment.getSeconds()) +
      (offset >= 0 ? "+" : "-") + pad(offset / 60) + ":" + pad(offset % 60)
    );
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-captured-at-source]")) {
      return;
    }
    var field = input.form && input.form.querySelector("[data-captured-at-target]");
    if (!field) {
      return;
    }
    var source = input.form.querySelector("[data-captured-at-source-target]");
    var now = Date.now();
    var file = input.files && input.files[0];
    // Never a future time; a file saved in the last two minutes was just taken by the camera.
    var taken = file && file.lastModified && file.lastModified <= now ? file.lastModified : now;
    field.value = file ? localIso(new Date(taken)) : "";
    if (source) source.value = !file ? "" : now - taken < 120000 ? "device" : "file";
  });
})();

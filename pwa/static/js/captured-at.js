// Records when the photo was taken, in the phone's local time with its UTC offset
// (2026-05-04T10:15:00+02:00), into the form's captured_at field. Without this the server
// uses the time it receives the photo.
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
    var now = Date.now();
    var file = input.files && input.files[0];
    // A photo chosen from the phone's gallery keeps the time it was taken; never a future one.
    var taken = file && file.lastModified && file.lastModified <= now ? file.lastModified : now;
    field.value = file ? localIso(new Date(taken)) : "";
  });
})();

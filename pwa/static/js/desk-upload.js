// Desk upload: many files, one set of tags (a file may take its own body site), each file sent
// on its own with its progress. A file's capture_id is made when it is chosen and kept for every
// retry, so a network failure never stores it twice. Files live only in this page's memory.
import { csrfToken, problemReason } from "./lib/request.js";
import { uuid4 } from "./lib/uuid.js";

{

  var CONCURRENT = 2;
  var RETRIES = 5;

  function setup(form) {
    var input = form.querySelector("[data-files]");
    var zone = form.querySelector("[data-drop-zone]");
    var queue = form.querySelector("[data-queue]");
    var summary = form.querySelector("[data-summary]");
    var send = form.querySelector("[data-send]");
    var template = document.querySelector("[data-row-template]");
    var siteSelect = form.querySelector('[data-tag="body_site"]');
    var maxFiles = Number(form.dataset.maxFiles) || 50;
    var items = [];
    var running = 0;

    // What the server sees in a file before it is sent: when the photo says it was taken,
    // whether the same file is already stored for this patient, a preview it can draw.
    function inspect(item) {
      if (item.clip) {
        // A clip is not sent twice over (it may be large): the server reads the date it
        // records when it arrives; this is the file's, used when the clip records none.
        item.dateLabel.textContent = "The clip's own date is used if it has one; else this:";
        item.dateField.hidden = false;
        item.dateInput.value = localInput(item.takenAt);
        return;
      }
      var data = new FormData();
      data.append("patient_id", form.dataset.mrn);
      data.append("issuer", form.dataset.issuer);
      data.append("file", item.file, item.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.inspectApi);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status !== 200) {
          item.when.textContent = item.pdf ? "" : problemReason(xhr.status, xhr.responseText);
          return;
        }
        var looked = JSON.parse(xhr.responseText);
        if (looked.preview) {
          item.thumb.src = looked.preview;
          item.thumb.hidden = false;
        }
        if (!item.pdf) {
          if (looked.taken_at) {
            item.takenAt = looked.taken_at;
            item.takenFrom = "photo";
            item.when.textContent = "Taken " + readable(looked.taken_at, true) + " (from the photo)";
          } else {
            item.when.textContent = "";
            item.dateField.hidden = false;
            item.dateInput.value = localInput(item.takenAt);
          }
        } else {
          item.when.textContent = "";
        }
        if (looked.already_stored && item.state === "ready") {
          item.already = true;
          item.alreadyText.textContent = "Already stored on " + readable(looked.already_stored.stored_at);
          item.alreadyText.hidden = false;
          item.againField.hidden = false;
          setState(item, "already", "Not sent again unless you tick it");
        }
      };
      xhr.send(data);
    }

    // A moment as the clock where it happened read it (the photo's own offset), or, for a
    // moment of this server's (when a file was stored), in this browser's time.
    function readable(iso, wallClock) {
      var moment = wallClock ? new Date(iso.slice(0, 19)) : new Date(iso);
      return moment.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    }

    // The value of a datetime-local input for an ISO 8601 time, in this browser's time.
    function localInput(iso) {
      return iso.slice(0, 19);
    }

    // ISO 8601 with the browser's own UTC offset, as the API asks.
    function isoWithOffset(ms) {
      var d = new Date(ms);
      var pad = function (n) { return String(Math.abs(n)).padStart(2, "0"); };
      var offset = -d.getTimezoneOffset();
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
        (offset >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60);
    }

    function tags() {
      var out = {};
      form.querySelectorAll("[data-tag]").forEach(function (field) {
        var name = field.dataset.tag;
        if (field.type === "checkbox") out[name] = field.checked ? "true" : "false";
        else if (field.type === "radio") { if (field.checked) out[name] = field.value; }
        else out[name] = field.value;
      });
      return out;
    }

    function refresh() {
      var counts = { ready: 0, sending: 0, stored: 0, failed: 0, already: 0 };
      items.forEach(function (item) { counts[item.state] += 1; });
      send.disabled = counts.ready + counts.failed === 0 || running > 0;
      if (!items.length) summary.textContent = "No files chosen yet.";
      else {
        summary.textContent = items.length + " file(s): " + counts.stored + " stored, " +
          counts.sending + " sending, " + counts.failed + " failed, " + counts.ready + " ready.";
      }
      if (counts.already) summary.textContent += " " + counts.already + " already stored.";
      if (items.length && counts.stored + counts.already === items.length && counts.stored) {
        summary.innerHTML = "";
        summary.append("All " + items.length + " stored. ");
        var link = document.createElement("a");
        link.href = form.dataset.review;
        link.textContent = "See them with the patient's photos";
        summary.append(link);
      }
    }

    function setState(item, state, text) {
      item.state = state;
      item.row.dataset.state = state;
      item.row.querySelector("[data-remove]").hidden = state === "stored" || state === "sending";
      item.status.textContent = text;
      refresh();
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        if (items.length >= maxFiles) return;
        var row = template.content.firstElementChild.cloneNode(true);
        row.dataset.state = "ready";
        row.querySelector("[data-name]").textContent = file.name;
        var own = row.querySelector("[data-row-site]");
        Array.prototype.forEach.call(siteSelect.querySelectorAll("option[value]:not([value=''])"), function (option) {
          own.append(new Option(option.textContent, option.value));
        });
        var item = {
          file: file, capture: uuid4(), row: row, state: "ready", attempts: 0, pdf: isPdf(file),
          clip: isClip(file),
          progress: row.querySelector("[data-progress]"), status: row.querySelector("[data-status]"),
          site: own, thumb: row.querySelector("[data-thumb]"), when: row.querySelector("[data-when]"),
          dateField: row.querySelector("[data-date-field]"), dateInput: row.querySelector("[data-row-date]"),
          dateLabel: row.querySelector("[data-date-label]"),
          alreadyText: row.querySelector("[data-already]"), againField: row.querySelector("[data-again-field]"),
          again: row.querySelector("[data-row-again]"), already: false,
          takenAt: isoWithOffset(Math.min(file.lastModified || Date.now(), Date.now())), takenFrom: "file"
        };
        item.dateInput.addEventListener("change", function () {
          if (!item.dateInput.value) return;
          item.takenAt = isoWithOffset(new Date(item.dateInput.value).getTime());
          item.takenFrom = "entered";
        });
        item.again.addEventListener("change", function () {
          if (item.state === "already" || item.state === "ready") {
            setState(item, item.again.checked ? "ready" : "already",
              item.again.checked ? "Ready (a second copy)" : "Not sent again unless you tick it");
          }
        });
        if (item.clip) {
          row.querySelector("[data-name]").append(" (video clip)");
        }
        if (item.pdf) {
          var label = own.closest("label");
          var kind = document.createElement("span");
          kind.className = "desk-kind";
          kind.textContent = "PDF document";
          label.replaceWith(kind);
        }
        row.querySelector("[data-remove]").addEventListener("click", function () {
          if (item.state === "sending") return;
          items = items.filter(function (other) { return other !== item; });
          row.remove();
          item.file = null;
          refresh();
        });
        items.push(item);
        queue.append(row);
        inspect(item);
      });
      if (files.length > maxFiles) summary.textContent = "Only the first " + maxFiles + " files were added.";
      refresh();
    }

    function isPdf(file) {
      return file.type === "application/pdf" || /\.pdf$/i.test(file.name);
    }

    // A clip goes to the videos API with the same tags; the server decides from its content.
    function isClip(file) {
      return /^video\//.test(file.type) || /\.(mp4|m4v|mov|webm)$/i.test(file.name);
    }

    // A PDF is filed as a document titled by its file name; an image gets the tags.
    function formFor(item) {
      var data = new FormData();
      if (item.pdf) {
        data.append("title", item.file.name.replace(/\.pdf$/i, "").slice(0, 64) || "Document");
      } else {
        var fields = tags();
        if (item.site.value) {
          fields.body_site = item.site.value;
          // A file of another site keeps the aspect only where that site has the same face.
          var chosen = siteSelect.querySelector('option[value="' + CSS.escape(item.site.value) + '"]');
          var faces = JSON.parse((chosen && chosen.dataset.aspects) || "{}");
          if (!faces[fields.aspect]) delete fields.aspect;
        }
        Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
        // As the row shows it: the photo's own moment, or the file's date the user checked.
        data.append("captured_at", item.takenAt);
        data.append("captured_at_source", item.takenFrom);
      }
      data.append("patient_id", form.dataset.mrn);
      data.append("issuer", form.dataset.issuer);
      data.append("session_id", form.dataset.session);
      data.append("capture_id", item.capture);
      if (item.already && item.again.checked) data.append("allow_duplicate", "true");
      data.append("file", item.file, item.file.name);
      return data;
    }

    function upload(item) {
      var data = formFor(item);
      running += 1;
      setState(item, "sending", "Sending… 0%");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", item.pdf ? form.dataset.documentsApi : item.clip ? form.dataset.videosApi : form.dataset.api);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round((event.loaded / event.total) * 100);
          item.progress.value = percent;
          item.status.textContent = "Sending… " + percent + "%";
        }
      };
      xhr.onload = function () {
        running -= 1;
        if (xhr.status === 200 || xhr.status === 201) {
          item.progress.value = 100;
          item.file = null; // stored: nothing of it stays in the page
          var answer = {};
          try { answer = JSON.parse(xhr.responseText); } catch (error) { answer = {}; }
          setState(item, "stored", answer.duplicate ? "Already stored: this file was sent before" : "Stored");
        } else if (xhr.status >= 500 || xhr.status === 0) {
          retry(item, "The server did not answer (" + xhr.status + ").");
        } else {
          var reason = problemReason(xhr.status, xhr.responseText);
          setState(item, "failed", reason);
        }
        next();
      };
      xhr.onerror = function () {
        running -= 1;
        retry(item, "The network dropped.");
        next();
      };
      xhr.send(data);
    }

    function retry(item, why) {
      item.attempts += 1;
      if (item.attempts > RETRIES) {
        setState(item, "failed", why + " Send again when the network is back.");
        return;
      }
      var delay = Math.min(30000, 1000 * Math.pow(2, item.attempts)) * (0.5 + Math.random() / 2);
      setState(item, "ready", why + " Trying again in " + Math.round(delay / 1000) + " s.");
      setTimeout(function () { if (item.state === "ready") { start(item); } }, delay);
    }

    function start(item) {
      if (running < CONCURRENT) upload(item);
    }

    function next() {
      items.filter(function (item) { return item.state === "ready" && item.attempts === 0; })
        .slice(0, Math.max(0, CONCURRENT - running))
        .forEach(upload);
      refresh();
    }

    input.addEventListener("change", function () { add(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("is-over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) { add(event.dataTransfer.files); });
    // Every consent question answered, or nothing is sent: consent is asked, never assumed.
    function unansweredConsent() {
      var asked = form.querySelector("[data-consent]");
      var names = ["consent_clinical", "consent_teaching", "consent_publication", "consent_method"];
      return names.filter(function (name) {
        return !asked.querySelector('[data-tag="' + name + '"]:checked');
      }).map(function (name) { return asked.querySelector('[data-tag="' + name + '"]'); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var photos = items.some(function (item) { return !item.pdf; });
      if (!siteSelect.value && items.some(function (item) { return !item.pdf && !item.site.value; })) {
        summary.textContent = "Choose the body site (for every file, or for each file below).";
        siteSelect.focus();
        return;
      }
      var unanswered = photos ? unansweredConsent() : [];
      if (unanswered.length) {
        summary.textContent = "Answer every consent question before sending the photos.";
        unanswered[0].focus();
        return;
      }
      var declined = form.querySelector('[data-tag="consent_clinical"][value="no"]:checked');
      if (photos && declined) {
        summary.textContent = "Without consent for the clinical record, no photo can be stored.";
        declined.focus();
        return;
      }
      items.forEach(function (item) { if (item.state === "failed") { item.state = "ready"; item.attempts = 0; } });
      next();
    });
    window.addEventListener("beforeunload", function (event) {
      if (items.some(function (item) { return item.state !== "stored"; })) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  function init() { document.querySelectorAll("[data-desk-upload]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}

// The wristband viewfinder: [data-bedside-scan] on the scan screen.
//
// Opens the back camera in the page and reads the wristband barcode: with the browser's
// BarcodeDetector where it exists and knows a wristband format, otherwise by sending small
// greyscale frames a few times a second to the server, which decodes them with zxing-cpp.
// The read text names a patient (POST .../parse or .../scan); then the confirmation card opens.
// Nothing is stored on the device: frames live in a canvas and in the request, nowhere else.
import { csrfToken } from "./lib/request.js";

{

  var FORMATS = ["code_128", "pdf417", "data_matrix", "qr_code"];
  var FRAME_WIDTH = 640;
  var INTERVAL_MS = 300;
  var SAME_MESSAGE_PAUSE_MS = 2500;

  function start(root) {
    var video = root.querySelector("[data-scan-video]");
    var idle = root.querySelector("[data-scan-idle]");
    var status = root.querySelector("[data-scan-status]");
    var problem = root.querySelector("[data-scan-problem]");
    var retry = root.querySelector("[data-scan-retry]");
    var canvas = document.createElement("canvas");
    var stream = null;
    var detector = null;
    var busy = false;
    var done = false;
    var timer = null;
    var lastProblem = "";
    var quietUntil = 0;

    function say(text) {
      status.textContent = text;
    }

    function warn(text) {
      if (!text) {
        problem.hidden = true;
        problem.textContent = "";
        lastProblem = "";
        return;
      }
      if (text !== lastProblem) {
        problem.textContent = text;
        lastProblem = text;
      }
      problem.hidden = false;
    }

    function stop() {
      if (timer) {
        window.clearInterval(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        stream = null;
      }
    }

    function found(patient) {
      done = true;
      stop();
      if (navigator.vibrate) {
        navigator.vibrate(80);
      }
      say("Wristband read. Opening the confirmation card…");
      var query = new URLSearchParams({ mrn: patient.mrn, issuer: patient.issuer });
      window.location.assign(root.getAttribute("data-confirm-url") + "?" + query.toString());
    }

    // The server's answer to a read: a patient, "no barcode yet", or why the code is refused.
    function handle(response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.found && body.patient) {
          found(body.patient);
        } else if (response.ok) {
          if (!lastProblem) {
            say("Looking for a wristband barcode… Hold it steady inside the frame.");
          }
        } else if (response.status === 401) {
          window.location.assign("/login?next=" + encodeURIComponent("/bedside"));
        } else {
          quietUntil = Date.now() + SAME_MESSAGE_PAUSE_MS;
          warn(body.detail || "This barcode could not be read as a wristband.");
          say("Still scanning. You can also type the MRN or search below.");
        }
      });
    }

    function post(url, body, headers) {
      headers["X-CSRF-Token"] = csrfToken();
      headers.Accept = "application/json";
      return fetch(url, {
        method: "POST", body: body, headers: headers, credentials: "same-origin", cache: "no-store"
      }).then(handle);
    }

    function parseText(barcode) {
      return post(root.getAttribute("data-parse-url"),
        JSON.stringify({ text: barcode.rawValue, format: barcode.format }),
        { "Content-Type": "application/json" });
    }

    function greyFrame() {
      var scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var px = image.data;
      for (var i = 0; i < px.length; i += 4) {
        var y = (px[i] * 77 + px[i + 1] * 150 + px[i + 2] * 29) >> 8;
        px[i] = px[i + 1] = px[i + 2] = y;
      }
      context.putImageData(image, 0, 0);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.8); });
    }

    function sendFrame() {
      return greyFrame().then(function (blob) {
        if (!blob) {
          return undefined;
        }
        var form = new FormData();
        form.append("frame", blob, "frame.jpg");
        return post(root.getAttribute("data-scan-url"), form, {});
      });
    }

    function tick() {
      if (busy || done || !video.videoWidth || Date.now() < quietUntil) {
        return;
      }
      busy = true;
      var work = detector
        ? detector.detect(video).then(function (codes) {
          return codes.length ? parseText(codes[0]) : undefined;
        })
        : sendFrame();
      work.catch(function () {
        say("The connection to the server was lost. Scanning again…");
      }).then(function () { busy = false; });
    }

    function chooseDecoder() {
      if (!("BarcodeDetector" in window) || !window.BarcodeDetector.getSupportedFormats) {
        return Promise.resolve(null);
      }
      return window.BarcodeDetector.getSupportedFormats().then(function (supported) {
        var usable = FORMATS.filter(function (name) { return supported.indexOf(name) !== -1; });
        return usable.length ? new window.BarcodeDetector({ formats: usable }) : null;
      }).catch(function () { return null; });
    }

    function cameraProblem(error) {
      var name = error && error.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        return "The camera is blocked for this site, so the wristband cannot be scanned. " +
          "Allow the camera in the browser's site settings, or type the MRN or search below.";
      }
      if (name === "NotFoundError" || name === "OverconstrainedError") {
        return "No camera was found on this device. Type the MRN or search below.";
      }
      if (name === "NotReadableError") {
        return "The camera is in use by another app. Close it and try again, " +
          "or type the MRN or search below.";
      }
      return "The camera could not be opened. Type the MRN or search below.";
    }

    function open() {
      warn("");
      retry.hidden = true;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        say("Camera not available.");
        warn(window.isSecureContext
          ? "This browser cannot use the camera here. Type the MRN or search below."
          : "The camera needs a secure (https) connection. Type the MRN or search below.");
        return;
      }
      say("Starting the camera…");
      navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
      }).then(function (opened) {
        stream = opened;
        video.srcObject = opened;
        idle.hidden = true;
        return video.play().catch(function () { return undefined; });
      }).then(chooseDecoder).then(function (chosen) {
        if (!stream) {
          return;
        }
        detector = chosen;
        say("Looking for a wristband barcode… Hold it steady inside the frame.");
        timer = window.setInterval(tick, INTERVAL_MS);
      }).catch(function (error) {
        stop();
        say("Camera not available.");
        warn(cameraProblem(error));
        retry.hidden = false;
      });
    }

    retry.addEventListener("click", open);
    // Leaving the page (or the back-forward cache) must release the camera.
    window.addEventListener("pagehide", stop);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        done = false;
        open();
      }
    });
    open();
  }

  function init() {
    var root = document.querySelector("[data-bedside-scan]");
    if (root) {
      start(root);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}

// The bedside capture screen: camera (or the file input) -> tag sheet -> upload queue, with the
// idle lock and the leave guard around them. A clip is recorded from the same camera (or taken
// with the phone's camera through a file input), played back, then tagged and queued like a
// photo. Photos and clips live only in page memory: no storage API, no cache, no download is
// ever used. The server names the patient and the consent: the page sends only photos, clips
// and their tags to this session's URLs.
import { Camera } from "./camera.js";
import { ClipPreview } from "./clip-preview.js";
import { IdleLock } from "./idle-lock.js";
import { guardLeaving } from "./leave-guard.js";
import { localIso } from "./local-time.js";
import { FAILED, QUEUED, SENDING, STORED, UploadQueue, WAITING, counted } from "./queue.js";
import { Recorder, clock } from "./recorder.js";
import { readCatalogue } from "./sites.js";
import { FIX, NEW, NEXT, TagSheet } from "./tags.js";
import { uuid4 } from "../lib/uuid.js";

const root = document.getElementById("bedside");
const shutter = root.querySelector("[data-shutter]");
const shutterText = shutter.querySelector(".shutter-text");
const chip = root.querySelector("[data-tag-chip]");
const chipText = root.querySelector("[data-tag-chip-text]");
const files = root.querySelector("[data-camera-files]");
const finish = root.querySelector("[data-finish]");
const finishNote = root.querySelector("[data-finish-note]");
const empty = root.querySelector("[data-queue-empty]");
const summary = root.querySelector("[data-queue-summary]");
const record = root.querySelector("[data-record]");
const recordText = root.querySelector("[data-record-text]");
const recording = root.querySelector("[data-recording]");
const recordingTime = root.querySelector("[data-recording-time]");
const clipChoice = root.querySelector("[data-clip-choice]");
const clipFiles = root.querySelector("[data-clip-files]");
const POSTER_SIDE = 320;

const sheet = new TagSheet(document.querySelector("[data-tag-sheet]"), readCatalogue(document));
const queue = new UploadQueue({
  url: root.dataset.photosUrl,
  list: root.querySelector("[data-queue-list]"),
  template: root.querySelector("[data-queue-item]"),
  announcer: root.querySelector("[data-queue-announcer]"),
  describe: (tags) => sheet.describe(tags),
});
const camera = new Camera(root.querySelector("[data-camera]"));
const lock = new IdleLock(document.querySelector("[data-idle-lock]"), {
  seconds: Number(root.dataset.idleLockSeconds) || 0,
  url: root.dataset.unlockUrl,
  lockUrl: root.dataset.lockUrl,
});
guardLeaving(queue);
const recorder = new Recorder({ limitSeconds: Number(root.dataset.clipLimitSeconds) || 60 });
const preview = new ClipPreview(document.querySelector("[data-clip-preview]"));
let recorded = null; // {takenAt, poster} of the clip being recorded or previewed

// A shutter press is a new photo by definition (``shutter``): the server does not answer it
// with an earlier photo of the same bytes, as it does for a file chosen a second time.
function newPhoto(blob, fileName, takenAt, shutter = false) {
  return {
    captureId: uuid4(),
    blob,
    fileName,
    capturedAt: localIso(takenAt),
    tags: null,
    url: URL.createObjectURL(blob),
    shutter,
  };
}

// A clip is queued like a photo, sent to the clips URL; its thumbnail is a frame of the
// viewfinder taken as recording began (none for a clip from the phone's camera app).
function newClip(blob, takenAt, poster) {
  const extension = blob.type === "video/mp4" ? "mp4" : blob.type === "video/quicktime" ? "mov" : "webm";
  return {
    kind: "clip",
    captureId: uuid4(),
    blob,
    fileName: blob.name || `clip.${extension}`,
    capturedAt: localIso(takenAt),
    tags: null,
    url: poster ? URL.createObjectURL(poster) : "",
    uploadUrl: root.dataset.clipsUrl,
  };
}

// Every photo opens the tag sheet with its preview and the tags it will carry (those of the last
// photo, when there was one): nothing is sent until the nurse has seen them and tapped Send.
function take(photos) {
  sheet.open(NEW, photos);
}

function showTags() {
  chipText.textContent = sheet.describe(sheet.current);
}

// "2 stored · 1 sending · 1 not stored": the queue at a glance, next to the shutter.
function summarise() {
  const count = (state) => queue.photos.filter((photo) => photo.state === state).length;
  const stored = count(STORED);
  const sending = count(QUEUED) + count(SENDING);
  const trouble = count(WAITING) + count(FAILED);
  const parts = [];
  if (stored) {
    parts.push(`${stored} stored`);
  }
  if (sending) {
    parts.push(`${sending} sending`);
  }
  if (trouble) {
    parts.push(`${trouble} not stored yet`);
  }
  summary.textContent = parts.join(" · ");
  summary.hidden = parts.length === 0;
  summary.classList.toggle("has-trouble", trouble > 0);
  summary.classList.toggle("is-done", trouble === 0 && sending === 0);
}

function showQueue() {
  summarise();
  const unsent = queue.unsent;
  empty.hidden = queue.photos.length > 0;
  // Still a working link while photos are unsent: tapping it says what to wait for.
  finish.classList.toggle("is-waiting", unsent > 0);
  if (unsent === 0) {
    finishNote.textContent = "";
  }
  const sending = queue.sending;
  lock.setUploads(sending ? `${counted(queue.sendingItems)} ${sending === 1 ? "is" : "are"} still being sent.` : "");
}

shutter.addEventListener("click", async () => {
  if (!camera.ready || shutter.disabled) {
    return;
  }
  // Say "taken" at once (flash, buzz, "Saving…"): making the JPEG may take a moment.
  shutter.disabled = true;
  shutter.setAttribute("aria-busy", "true");
  shutterText.textContent = "Saving…";
  root.classList.add("is-flash");
  setTimeout(() => root.classList.remove("is-flash"), 150);
  if (navigator.vibrate) {
    navigator.vibrate(30);
  }
  try {
    const blob = await camera.capture();
    take([newPhoto(blob, "photo.jpg", new Date(), true)]);
  } catch (error) {
    finishNote.textContent = `${error.message} Try again.`;
  } finally {
    shutter.removeAttribute("aria-busy");
    shutterText.textContent = "Take photo";
    shutter.disabled = lock.locked;
  }
});

files.addEventListener("change", () => {
  const now = Date.now();
  const chosen = Array.from(files.files || []).map((file) => {
    // A photo from the phone's camera app keeps the time it was taken; never a future one.
    const taken = file.lastModified && file.lastModified <= now ? file.lastModified : now;
    return newPhoto(file, file.name || "photo.jpg", new Date(taken));
  });
  files.value = "";
  if (chosen.length) {
    take(chosen);
  }
});

function showRecording(on) {
  record.setAttribute("aria-pressed", String(on));
  recordText.textContent = on ? "Stop" : "Record clip";
  recording.hidden = !on;
  root.classList.toggle("is-recording", on);
  shutter.disabled = on || lock.locked || !camera.ready;
}

record.addEventListener("click", async () => {
  if (!recorder.supported) {
    clipFiles.click(); // the phone's own camera records it
    return;
  }
  if (recorder.recording) {
    recorder.stop();
    return;
  }
  if (!camera.ready || preview.open) {
    return;
  }
  let poster = null;
  try {
    poster = await camera.capture(POSTER_SIDE);
  } catch (_) {
    // a clip without a thumbnail in the queue is still a clip
  }
  recorded = { takenAt: new Date(), poster };
  await recorder.start(camera.stream);
});

recorder.addEventListener("start", () => {
  showRecording(true);
  queue.announce("Recording.");
});
recorder.addEventListener("tick", (event) => {
  recordingTime.textContent = clock(event.detail.elapsed);
});
recorder.addEventListener("stop", (event) => {
  showRecording(false);
  recordingTime.textContent = clock(0);
  camera.fullResolution();
  const { blob, seconds } = event.detail;
  if (blob.size === 0) {
    finishNote.textContent = "Nothing was recorded. Try again.";
    return;
  }
  queue.announce(`Recording stopped after ${clock(seconds)}.`);
  preview.show(blob, seconds);
});

clipFiles.addEventListener("change", () => {
  const file = clipFiles.files && clipFiles.files[0];
  clipFiles.value = "";
  if (file) {
    const now = Date.now();
    const taken = file.lastModified && file.lastModified <= now ? file.lastModified : now;
    recorded = { takenAt: new Date(taken), poster: null };
    preview.show(file, 0);
  }
});

preview.addEventListener("use", (event) => {
  take([newClip(event.detail.blob, recorded.takenAt, recorded.poster)]);
  recorded = null;
});
preview.addEventListener("discard", () => {
  queue.announce("Clip discarded.");
  recorded = null;
});

chip.addEventListener("click", () => sheet.open(NEXT));

sheet.addEventListener("apply", (event) => {
  const { mode, photos, tags } = event.detail;
  if (mode === NEW) {
    photos.forEach((photo) => {
      photo.tags = { ...tags };
      queue.add(photo);
    });
  } else if (mode === FIX) {
    queue.resend(photos[0], tags);
  }
  showTags();
});
sheet.addEventListener("discard", (event) => {
  event.detail.photos.forEach((photo) => URL.revokeObjectURL(photo.url));
});
queue.addEventListener("fix", (event) => sheet.open(FIX, [event.detail], event.detail.tags));
queue.addEventListener("change", showQueue);

finish.addEventListener("click", (event) => {
  const unsent = queue.unsent;
  if (unsent > 0) {
    event.preventDefault();
    finishNote.textContent = `Wait until everything is stored: ${counted(queue.unsentItems)} ${unsent === 1 ? "is" : "are"} not stored yet.`;
  }
});

camera.addEventListener("ready", () => {
  shutter.disabled = recorder.recording || lock.locked;
  record.hidden = false;
});
camera.addEventListener("unavailable", () => {
  shutter.closest(".shutters").hidden = true;
  clipChoice.hidden = false;
});
lock.addEventListener("lock", () => {
  recorder.stop(); // what was recorded so far is kept, and shown once unlocked
  camera.stop();
  shutter.disabled = true;
});
// After the lock, whoever unlocks starts again from no tags: none carry over to the next photo.
lock.addEventListener("unlock", () => {
  sheet.forget();
  showTags();
  camera.start();
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    recorder.stop();
    camera.stop();
  } else if (!lock.locked) {
    camera.start();
  }
});
window.addEventListener("pagehide", () => {
  recorder.stop();
  camera.stop();
});

showTags();
showQueue();
camera.start();

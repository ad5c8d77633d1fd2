// Sends one photo (or clip) to its URL with XMLHttpRequest (fetch cannot report upload
// progress). Resolves with what happened, never rejects:
//   {kind: "stored", body}           201 created, or 200: this capture_id had been stored before
//   {kind: "refused", status, reason} 4xx: the tags or the photo need fixing; never retried
//   {kind: "unreachable", reason}     network error, timeout or 5xx: worth retrying as it is
import { csrfToken, problemReason } from "../lib/request.js";

const TIMEOUT_MS = 120000;
// A clip may take minutes: tens of megabytes over ward Wi-Fi, then its conversion.
const CLIP_TIMEOUT_MS = 900000;

export function sendPhoto(url, photo, onProgress) {
  const form = new FormData();
  form.append("file", photo.blob, photo.fileName);
  form.append("body_site", photo.tags.site);
  form.append("laterality", photo.tags.laterality);
  form.append("aspect", photo.tags.aspect || "");
  form.append("view", photo.tags.view);
  form.append("finding", photo.tags.finding || "");
  form.append("description", photo.tags.description);
  form.append("sensitive", photo.tags.sensitive ? "true" : "false");
  form.append("capture_id", photo.captureId);
  form.append("captured_at", photo.capturedAt);
  if (photo.shutter) form.append("allow_duplicate", "true");

  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.timeout = photo.kind === "clip" ? CLIP_TIMEOUT_MS : TIMEOUT_MS;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) {
        onProgress(Math.min(100, Math.round((100 * event.loaded) / event.total)));
      }
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 200 || xhr.status === 201) {
        try {
          resolve({ kind: "stored", body: JSON.parse(xhr.responseText) });
        } catch (_) {
          resolve({ kind: "unreachable", reason: "The server's answer could not be read." });
        }
      } else if (xhr.status >= 400 && xhr.status < 500) {
        resolve({ kind: "refused", status: xhr.status, reason: problemReason(xhr.status, xhr.responseText) });
      } else {
        resolve({ kind: "unreachable", reason: `The server had a problem (error ${xhr.status}).` });
      }
    });
    xhr.addEventListener("error", () => resolve({ kind: "unreachable", reason: "No connection to Pointcare." }));
    xhr.addEventListener("timeout", () => resolve({ kind: "unreachable", reason: "Sending took too long." }));
    xhr.addEventListener("abort", () => resolve({ kind: "unreachable", reason: "Sending was interrupted." }));
    xhr.send(form);
  });
}

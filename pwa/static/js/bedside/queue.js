// The session's photos and clips and what has happened to each: queued, sending (with percent),
// waiting to retry, stored, or failed with the server's reason. They are sent one at a time, in
// order, each to its own URL (a clip to the session's clips URL).
// A network error or a 5xx is retried with backoff (same capture_id, so the server stores it
// once); a 4xx is never retried by itself: the user fixes the tags and sends again, or discards.
// Once the server confirms a photo, its object URL is revoked and its Blob dropped: from then on
// the page holds only the label the server gave it.
import { retryDelayMs } from "./backoff.js";
import { sendPhoto } from "./upload.js";

export const QUEUED = "queued";
export const SENDING = "sending";
export const WAITING = "waiting";
export const STORED = "stored";
export const FAILED = "failed";

const STATE_WORDS = {
  [QUEUED]: "Queued",
  [SENDING]: "Sending",
  [WAITING]: "Not sent yet",
  [STORED]: "Stored",
  [FAILED]: "Not stored",
};

// "Photo" or "Clip", as the queue's announcements name an item.
export function noun(item) {
  return item.kind === "clip" ? "Clip" : "Photo";
}

// "1 photo", "3 photos and 1 clip": how many of what, for the messages about unsent items.
export function counted(items) {
  const clips = items.filter((item) => item.kind === "clip").length;
  const photos = items.length - clips;
  const parts = [];
  if (photos) {
    parts.push(photos === 1 ? "1 photo" : `${photos} photos`);
  }
  if (clips) {
    parts.push(clips === 1 ? "1 clip" : `${clips} clips`);
  }
  return parts.join(" and ");
}

export class UploadQueue extends EventTarget {
  constructor({ url, list, template, announcer, describe }) {
    super();
    this.url = url;
    this.list = list;
    this.template = template;
    this.announcer = announcer;
    this.describe = describe;
    this.photos = [];
    this.busy = false;
    this.numbered = 0;
    window.addEventListener("online", () => this.retryWaitingNow());
  }

  get unsent() {
    return this.unsentItems.length;
  }

  get unsentItems() {
    return this.photos.filter((photo) => photo.state !== STORED);
  }

  get sending() {
    return this.sendingItems.length;
  }

  get sendingItems() {
    return this.photos.filter((photo) => photo.state !== STORED && photo.state !== FAILED);
  }

  get stored() {
    return this.photos.filter((photo) => photo.state === STORED);
  }

  add(photo) {
    this.numbered += 1;
    photo.number = this.numbered;
    photo.state = QUEUED;
    photo.failures = 0;
    photo.progress = 0;
    photo.reason = "";
    if (!photo.url && photo.kind !== "clip") {
      photo.url = URL.createObjectURL(photo.blob);
    }
    photo.element = this.render(photo);
    this.photos.push(photo);
    this.list.append(photo.element);
    this.changed(photo);
    this.pump();
  }

  // Send again with (possibly new) tags: the photo keeps its capture_id.
  resend(photo, tags) {
    if (photo.state === STORED || photo.state === SENDING) {
      return;
    }
    if (tags) {
      photo.tags = { ...tags };
    }
    clearTimeout(photo.timer);
    photo.state = QUEUED;
    photo.reason = "";
    this.changed(photo);
    this.pump();
  }

  discard(photo) {
    if (photo.state === STORED || photo.state === SENDING) {
      return;
    }
    clearTimeout(photo.timer);
    this.forget(photo);
    photo.element.remove();
    this.photos = this.photos.filter((other) => other !== photo);
    this.announce(`${noun(photo)} ${photo.number} discarded.`);
    this.dispatchEvent(new Event("change"));
  }

  retryWaitingNow() {
    this.photos.filter((photo) => photo.state === WAITING).forEach((photo) => this.resend(photo));
  }

  async pump() {
    if (this.busy) {
      return;
    }
    const photo = this.photos.find((candidate) => candidate.state === QUEUED);
    if (!photo) {
      return;
    }
    this.busy = true;
    photo.state = SENDING;
    photo.progress = 0;
    this.changed(photo);
    const outcome = await sendPhoto(photo.uploadUrl || this.url, photo, (percent) => {
      photo.progress = percent;
      this.paint(photo);
    });
    this.busy = false;
    this.settle(photo, outcome);
    this.pump();
  }

  settle(photo, outcome) {
    if (!this.photos.includes(photo)) {
      return;
    }
    if (outcome.kind === "stored") {
      photo.state = STORED;
      photo.label = outcome.body.body_site_label || this.describe(photo.tags);
      photo.created = Boolean(outcome.body.created);
      photo.sopInstanceUid = outcome.body.sop_instance_uid;
      this.forget(photo);
      this.announce(`${noun(photo)} ${photo.number} stored: ${photo.label}.`);
    } else if (outcome.kind === "refused") {
      photo.state = FAILED;
      photo.reason = outcome.reason;
      this.announce(`${noun(photo)} ${photo.number} was not stored. ${outcome.reason}`);
    } else {
      photo.failures += 1;
      photo.state = WAITING;
      const delay = retryDelayMs(photo.failures);
      photo.reason = `${outcome.reason} Trying again in ${Math.max(1, Math.round(delay / 1000))} s.`;
      photo.timer = setTimeout(() => this.resend(photo), delay);
    }
    this.changed(photo);
  }

  // Drop every reference to the pixels: the object URL and the Blob.
  forget(photo) {
    if (photo.url) {
      URL.revokeObjectURL(photo.url);
    }
    photo.url = null;
    photo.blob = null;
    const img = photo.element && photo.element.querySelector("[data-item-img]");
    if (img) {
      img.removeAttribute("src");
      img.hidden = true;
    }
  }

  announce(text) {
    this.announcer.textContent = text;
  }

  changed(photo) {
    this.paint(photo);
    this.dispatchEvent(new Event("change"));
  }

  render(photo) {
    const element = this.template.content.firstElementChild.cloneNode(true);
    const img = element.querySelector("[data-item-img]");
    // The row's words say what the photo is; a picture the browser cannot show (HEIC on most
    // desktops) leaves an empty tile rather than a broken-image icon.
    img.addEventListener("error", () => {
      img.hidden = true;
    });
    if (photo.url) {
      img.src = photo.url;
    } else {
      img.hidden = true;
    }
    element.querySelector("[data-item-kind]").hidden = photo.kind !== "clip";
    element.querySelector("[data-item-number]").textContent = String(photo.number);
    element.querySelector("[data-item-retry]").addEventListener("click", () => this.resend(photo));
    element.querySelector("[data-item-discard]").addEventListener("click", () => {
      const what = `${noun(photo).toLowerCase()} ${photo.number}`;
      if (window.confirm(`Discard ${what}? It has not been stored and will be lost.`)) {
        this.discard(photo);
      }
    });
    element.querySelector("[data-item-fix]").addEventListener("click", () => {
      this.dispatchEvent(new CustomEvent("fix", { detail: photo }));
    });
    return element;
  }

  paint(photo) {
    const element = photo.element;
    element.dataset.state = photo.state;
    element.querySelector("[data-item-site]").textContent =
      photo.state === STORED ? photo.label : this.describe(photo.tags);
    let words = STATE_WORDS[photo.state];
    if (photo.state === SENDING) {
      words = photo.progress < 100 ? `Sending… ${photo.progress}%` : "Storing…";
    } else if (photo.state === STORED && !photo.created) {
      words = "Stored (had been sent before)";
    }
    element.querySelector("[data-item-state]").textContent = words;
    const progress = element.querySelector("[data-item-progress]");
    progress.hidden = photo.state !== SENDING;
    progress.value = photo.progress;
    const reason = element.querySelector("[data-item-reason]");
    reason.hidden = !photo.reason;
    reason.textContent = photo.reason;
    element.querySelector("[data-item-actions]").hidden = photo.state !== FAILED && photo.state !== WAITING;
    element.querySelector("[data-item-fix]").hidden = photo.state !== FAILED;
    element.querySelector("[data-item-retry]").textContent = photo.state === WAITING ? "Send now" : "Send again";
  }
}

// The idle lock: after the configured seconds without input the page locks. A modal dialog asks
// for the user's password; everything else is inert and its patient details, thumbnails and tags
// are hidden (body.is-locked, see bedside.css). Uploads carry on underneath. Escape cannot close
// it: only the server's 204 for the password does. The server holds the lock too (lockUrl): a
// reload, or any other page of the session, shows the lock until the password is typed.
import { csrfToken, problemReason } from "../lib/request.js";

const INPUT_EVENTS = ["pointerdown", "keydown", "wheel", "touchstart", "input"];
const CHECK_EVERY_MS = 1000;

export class IdleLock extends EventTarget {
  constructor(dialog, { seconds, url, lockUrl }) {
    super();
    this.dialog = dialog;
    this.url = url;
    this.lockUrl = lockUrl;
    this.limitMs = seconds * 1000;
    this.form = dialog.querySelector("[data-idle-lock-form]");
    this.password = dialog.querySelector("[data-idle-lock-password]");
    this.error = dialog.querySelector("[data-idle-lock-error]");
    this.uploads = dialog.querySelector("[data-idle-lock-uploads]");
    this.locked = false;
    this.lastInput = Date.now();
    // A direct child of <body>, so that making "everything else" inert leaves it usable.
    document.body.append(dialog);
    const touched = () => {
      if (!this.locked) {
        this.lastInput = Date.now();
      }
    };
    INPUT_EVENTS.forEach((name) => document.addEventListener(name, touched, { capture: true, passive: true }));
    // A timer, not one long timeout: background tabs throttle timeouts, and a phone that slept
    // must come back locked.
    setInterval(() => this.check(), CHECK_EVERY_MS);
    document.addEventListener("visibilitychange", () => this.check());
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.addEventListener("close", () => {
      if (this.locked) {
        dialog.showModal();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.unlock();
    });
  }

  check() {
    if (!this.locked && this.limitMs > 0 && Date.now() - this.lastInput >= this.limitMs) {
      this.lock();
    }
  }

  lock() {
    this.locked = true;
    document.body.classList.add("is-locked");
    this.setOthersInert(true);
    this.password.value = "";
    this.showError("");
    this.dialog.showModal();
    this.password.focus();
    const held = { method: "POST", headers: { "X-CSRF-Token": csrfToken() }, keepalive: true };
    fetch(this.lockUrl, held).catch(() => {}); // offline: the page's own lock still holds
    this.dispatchEvent(new Event("lock"));
  }

  async unlock() {
    const password = this.password.value;
    if (!password) {
      this.showError("Type your password to unlock.");
      return;
    }
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: new URLSearchParams({ password }),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (_) {
      this.showError("Pointcare could not be reached. Check the connection, then try again.");
      return;
    }
    if (response.status !== 204) {
      this.password.value = "";
      this.showError(problemReason(response.status, await response.text()));
      this.password.focus();
      return;
    }
    this.locked = false;
    this.lastInput = Date.now();
    this.password.value = "";
    this.showError("");
    this.setOthersInert(false);
    document.body.classList.remove("is-locked");
    this.dialog.close();
    this.dispatchEvent(new Event("unlock"));
  }

  setOthersInert(inert) {
    Array.from(document.body.children).forEach((child) => {
      if (child !== this.dialog) {
        child.inert = inert;
      }
    });
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  // "1 photo is still being sent", shown on the lock screen.
  setUploads(text) {
    this.uploads.textContent = text;
    this.uploads.hidden = !text;
  }
}

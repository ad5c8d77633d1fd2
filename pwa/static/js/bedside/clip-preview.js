// The clip, played back before it is kept: "Use this clip" or "Discard", nothing in between
// (Escape does not close it: a clip is never dropped without a word). It plays from an object
// URL that is revoked as soon as the dialog closes.
import { clock } from "./recorder.js";

export class ClipPreview extends EventTarget {
  constructor(dialog) {
    super();
    this.dialog = dialog;
    this.video = dialog.querySelector("[data-clip-video]");
    this.facts = dialog.querySelector("[data-clip-facts]");
    this.url = null;
    this.blob = null;
    dialog.querySelector("[data-clip-use]").addEventListener("click", () => this.close("use"));
    dialog.querySelector("[data-clip-discard]").addEventListener("click", () => this.close("discard"));
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    this.video.addEventListener("loadedmetadata", () => {
      if (Number.isFinite(this.video.duration)) {
        this.describe(this.video.duration);
      }
    });
  }

  get open() {
    return this.dialog.open;
  }

  show(blob, seconds) {
    this.blob = blob;
    this.url = URL.createObjectURL(blob);
    this.video.src = this.url;
    this.describe(seconds);
    this.dialog.showModal();
  }

  describe(seconds) {
    const size = `${(this.blob.size / 1000000).toFixed(1)} MB`;
    this.facts.textContent = seconds ? `${clock(seconds)} long · ${size}` : size;
  }

  close(choice) {
    const blob = this.blob;
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
    URL.revokeObjectURL(this.url);
    this.url = null;
    this.blob = null;
    this.dialog.close();
    this.dispatchEvent(new CustomEvent(choice, { detail: { blob } }));
  }
}

// The tag sheet: body site (body map, search, recent sites), side, aspect (the face of the
// site: front, back, palm side, sole...), view, the wound or lesion
// (when the patient has open ones), description and the sensitive flag, in a modal dialog. It is
// opened for every new photo, with its preview (apply = send it), for the tags of the next photos
// (from the chip), or to fix a photo the server refused. Tags applied to new photos are offered
// again for the next ones, until they are changed or forgotten (after the idle lock).
import { BodyMap } from "./body-map.js";
import { searchKey, siteWithSide } from "./sites.js";

const RECENT_LIMIT = 6;
export const NEW = "new";
export const NEXT = "next";
export const FIX = "fix";

export class TagSheet extends EventTarget {
  constructor(dialog, catalogue) {
    super();
    this.dialog = dialog;
    this.catalogue = catalogue;
    this.form = dialog.querySelector("[data-tag-form]");
    this.title = dialog.querySelector("[data-tag-title]");
    this.photoStrip = dialog.querySelector("[data-tag-photos]");
    this.error = dialog.querySelector("[data-tag-error]");
    this.choice = dialog.querySelector("[data-tag-choice]");
    this.summary = dialog.querySelector("[data-tag-summary]");
    this.applyText = dialog.querySelector("[data-tag-apply-text]");
    this.sides = Array.from(dialog.querySelectorAll("[data-tag-side]"));
    this.aspectField = dialog.querySelector("[data-tag-aspect-field]");
    this.aspects = Array.from(dialog.querySelectorAll("[data-tag-aspect]"));
    this.views = Array.from(dialog.querySelectorAll("[data-tag-view]"));
    this.finding = dialog.querySelector("[data-tag-finding]");
    this.description = dialog.querySelector("[data-tag-description]");
    this.sensitive = dialog.querySelector("[data-tag-sensitive]");
    this.search = dialog.querySelector("[data-site-search]");
    this.count = dialog.querySelector("[data-site-count]");
    this.recent = dialog.querySelector("[data-recent-sites]");
    this.map = new BodyMap(dialog.querySelector("[data-body-map]"));
    this.site = "";
    this.mode = NEXT;
    this.photos = [];
    this.current = this.blank();

    this.map.addEventListener("pick", (event) => {
      const { site, side, aspect } = event.detail;
      this.choose(site, side, aspect);
    });
    // The site list and the recent sites (a recent one names its side and face too); the
    // body map's own buttons are the map's.
    dialog.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-site]");
      if (button && !button.closest("[data-body-map]")) {
        this.choose(button.dataset.site, button.dataset.side || null, button.dataset.aspect ?? null);
      }
    });
    [...this.sides, ...this.aspects].forEach((input) => input.addEventListener("change", () => this.showChoice()));
    [...this.views, this.sensitive].forEach((input) => input.addEventListener("change", () => this.showSummary()));
    this.search.addEventListener("input", () => this.filter());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
    this.cancelButton = dialog.querySelector("[data-tag-cancel]");
    this.cancelButton.addEventListener("click", () => this.cancel());
    // Escape: the same as Cancel (which may ask first), never a silent close.
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.cancel();
    });
  }

  blank() {
    return { site: "", laterality: "", aspect: "", view: this.views.length ? this.views[0].value : "", finding: "", description: "", sensitive: false };
  }

  // No tags to offer any more (the screen was locked); an open sheet starts again from none.
  forget() {
    this.current = this.blank();
    if (this.dialog.open && this.mode !== FIX) {
      this.load(this.current);
    }
  }

  get isOpen() {
    return this.dialog.open;
  }

  // "Right forearm · Close-up": what a photo's tags say, for the chip and the queue.
  describe(tags) {
    const site = this.catalogue.get(tags.site);
    if (!site) {
      return "No body site yet";
    }
    const view = this.views.find((input) => input.value === tags.view);
    const parts = [siteWithSide(site, tags.laterality, tags.aspect)];
    if (view) {
      parts.push(view.labels[0].textContent.trim());
    }
    const finding = this.findingLabel(tags.finding);
    if (finding) {
      parts.push(finding);
    }
    if (tags.sensitive) {
      parts.push("Sensitive");
    }
    return parts.join(" · ");
  }

  // "Wound 1" for a finding's id, or "" for none.
  findingLabel(id) {
    if (!this.finding || !id) {
      return "";
    }
    const option = Array.from(this.finding.options).find((o) => o.value === id);
    return option ? option.dataset.label : "";
  }

  // What is missing before photos with these tags can be sent, or "".
  missing(tags) {
    const site = this.catalogue.get(tags.site);
    if (!site) {
      return "Choose the body site: tap it on the body map, or find it in the list.";
    }
    if (site.paired && !["R", "L", "B"].includes(tags.laterality)) {
      return `Choose the side: ${site.meaning.toLowerCase()} is on both sides of the body.`;
    }
    return "";
  }

  get ready() {
    return this.missing(this.current) === "";
  }

  open(mode, photos = [], tags = this.current) {
    this.mode = mode;
    this.photos = photos;
    const count = photos.length;
    const what = count && photos.every((photo) => photo.kind === "clip") ? "clip" : "photo";
    if (mode === NEW) {
      this.title.textContent = count > 1 ? `Check the tags of ${count} ${what}s` : `Check the tags of this ${what}`;
      this.applyText.textContent = count > 1 ? `Send ${count} ${what}s` : `Send ${what}`;
      this.cancelButton.textContent = "Retake";
    } else if (mode === FIX) {
      this.title.textContent = `Change the tags of ${what} ${photos[0].number}`;
      this.applyText.textContent = "Send again";
    } else {
      this.title.textContent = "Tags for the next photos";
      this.applyText.textContent = "Use these tags";
    }
    if (mode !== NEW) {
      this.cancelButton.textContent = "Cancel";
    }
    this.showPhotos(photos);
    this.map.reset();
    this.load(tags);
    this.hideError();
    this.search.value = "";
    this.filter();
    if (!this.dialog.open) {
      this.dialog.showModal();
    }
  }

  close() {
    this.photos = [];
    this.showPhotos([]);
    if (this.dialog.open) {
      this.dialog.close();
    }
  }

  apply() {
    const tags = this.read();
    const missing = this.missing(tags);
    if (missing) {
      this.error.textContent = missing;
      this.error.hidden = false;
      this.error.focus();
      return;
    }
    const detail = { mode: this.mode, photos: this.photos, tags };
    if (this.mode !== FIX) {
      this.current = { ...tags };
      this.remember(tags);
    }
    this.close();
    this.dispatchEvent(new CustomEvent("apply", { detail }));
  }

  cancel() {
    const photos = this.photos;
    if (this.mode === NEW && photos.length) {
      const noun = photos.every((photo) => photo.kind === "clip") ? "clip" : "photo";
      const what = photos.length > 1 ? `these ${photos.length} ${noun}s` : `this ${noun}`;
      if (!window.confirm(`Discard ${what}? They have not been sent and will be lost.`)) {
        return;
      }
      this.close();
      this.dispatchEvent(new CustomEvent("discard", { detail: { photos } }));
      return;
    }
    this.close();
  }

  read() {
    const side = this.sides.find((input) => input.checked);
    const aspect = this.aspects.find((input) => input.checked && !input.disabled);
    const view = this.views.find((input) => input.checked);
    return {
      site: this.site,
      laterality: side ? side.value : "",
      aspect: aspect ? aspect.value : "",
      view: view ? view.value : "",
      finding: this.finding ? this.finding.value : "",
      description: this.description.value.trim(),
      sensitive: this.sensitive.checked,
    };
  }

  load(tags) {
    this.site = tags.site;
    this.sides.forEach((input) => {
      input.checked = input.value === tags.laterality;
    });
    this.aspects.forEach((input) => {
      input.checked = input.value === (tags.aspect || "");
    });
    this.views.forEach((input) => {
      input.checked = input.value === tags.view;
    });
    if (this.finding) {
      this.finding.value = tags.finding || "";
    }
    this.description.value = tags.description;
    this.sensitive.checked = tags.sensitive;
    this.applyRules(null);
    this.showChoice();
  }

  // A site picked on the map (with its side and face), in the list (side and face kept when
  // they still fit) or among the recent ones (with theirs).
  choose(code, side, aspect = null) {
    const site = this.catalogue.get(code);
    if (!site) {
      return;
    }
    const previous = this.catalogue.get(this.site);
    this.site = code;
    if (side && (side !== "U" || !site.paired)) {
      this.sides.forEach((input) => {
        input.checked = input.value === side;
      });
    }
    if (aspect !== null) {
      this.aspects.forEach((input) => {
        input.checked = input.value === aspect;
      });
    }
    this.applyRules(previous);
    this.hideError();
    this.showChoice();
  }

  // The site's rules: a paired site needs R, L or B ("unpaired" is off); an unpaired one starts
  // at "unpaired"; an intimate site is always sensitive (the server says the same).
  applyRules(previous) {
    const site = this.catalogue.get(this.site);
    this.offerAspects(site);
    if (!site) {
      this.sides.forEach((input) => {
        input.disabled = false;
      });
      this.sensitive.disabled = false;
      return;
    }
    const changed = previous && previous.code !== site.code;
    this.sides.forEach((input) => {
      input.disabled = site.paired && input.value === "U";
      if (input.disabled) {
        input.checked = false;
      }
    });
    const side = this.sides.find((input) => input.checked);
    if (!site.paired && (changed || !side)) {
      this.sides.forEach((input) => {
        input.checked = input.value === "U";
      });
    }
    if (site.intimate) {
      this.sensitive.checked = true;
    } else if (previous && previous.intimate && changed) {
      this.sensitive.checked = false;
    }
    this.sensitive.disabled = site.intimate;
  }

  // The faces the site has, in its words ("Palm side" of a finger); "Not stated" always. A face
  // the new site does not have is dropped.
  offerAspects(site) {
    const words = site ? site.aspects : {};
    this.aspects.forEach((input) => {
      const offered = !input.value || Boolean(words[input.value]);
      input.disabled = !offered;
      input.parentElement.hidden = !offered;
      if (!offered && input.checked) {
        input.checked = false;
      }
      if (input.value && offered) {
        const word = words[input.value];
        input.labels[0].textContent = word.charAt(0).toUpperCase() + word.slice(1);
      }
    });
    if (!this.aspects.some((input) => input.checked && !input.disabled)) {
      const none = this.aspects.find((input) => !input.value);
      if (none) {
        none.checked = true;
      }
    }
    this.aspectField.hidden = Object.keys(words).length === 0;
  }

  showChoice() {
    const tags = this.read();
    const site = this.catalogue.get(tags.site);
    this.choice.textContent = site ? `Chosen: ${siteWithSide(site, tags.laterality, tags.aspect)}` : "None chosen yet";
    this.choice.classList.toggle("is-chosen", Boolean(site));
    this.map.mark(tags.site, tags.laterality, tags.aspect);
    this.dialog.querySelectorAll("button[data-site]").forEach((button) => {
      // A recent site is pressed when side and face match too.
      const same = button.dataset.site === tags.site
        && (button.dataset.side === undefined || button.dataset.side === tags.laterality)
        && (button.dataset.aspect === undefined || button.dataset.aspect === tags.aspect);
      if (!button.closest("[data-body-map]")) {
        button.setAttribute("aria-pressed", String(same));
      }
    });
    this.showSummary();
  }

  showSummary() {
    this.summary.textContent = this.describe(this.read());
  }

  filter() {
    const key = searchKey(this.search.value);
    let shown = 0;
    this.dialog.querySelectorAll("[data-site-group]").forEach((group) => {
      let inGroup = 0;
      group.querySelectorAll("[data-site]").forEach((button) => {
        const match = !key || searchKey(button.textContent).includes(key);
        button.parentElement.hidden = !match;
        inGroup += match ? 1 : 0;
      });
      group.hidden = inGroup === 0;
      shown += inGroup;
    });
    this.count.textContent = key ? (shown ? `${shown} found` : "No body site matches. Try another word.") : "";
  }

  // The session's own choices join the patient's recent sites (site, side and face), newest
  // first.
  remember(tags) {
    if (!this.recent) {
      return;
    }
    const site = this.catalogue.get(tags.site);
    const existing = Array.from(this.recent.querySelectorAll("[data-site]")).find(
      (chip) => chip.dataset.site === tags.site && chip.dataset.side === tags.laterality && chip.dataset.aspect === tags.aspect,
    );
    let item = existing ? existing.parentElement : null;
    if (!item) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.setAttribute("aria-pressed", "true");
      Object.assign(chip.dataset, { site: tags.site, side: tags.laterality, aspect: tags.aspect });
      chip.textContent = siteWithSide(site, tags.laterality, tags.aspect);
      item = document.createElement("li");
      item.append(chip);
    }
    this.recent.prepend(item);
    while (this.recent.children.length > RECENT_LIMIT) {
      this.recent.lastElementChild.remove();
    }
    this.recent.closest("[data-recent]").hidden = false;
  }

  showPhotos(photos) {
    this.photoStrip.replaceChildren(
      ...photos.filter((photo) => photo.url).map((photo) => {
        const img = document.createElement("img");
        const noun = photo.kind === "clip" ? "clip" : "photo";
        img.alt = photo.number ? `${noun[0].toUpperCase()}${noun.slice(1)} ${photo.number}` : `The new ${noun}`;
        img.draggable = false;
        // A picture this browser cannot draw (HEIC): a clear frame, never a broken image.
        img.addEventListener("error", () => {
          const frame = document.createElement("span");
          frame.className = "tag-sheet-no-preview";
          frame.textContent = "Preview after sending";
          img.replaceWith(frame);
        });
        img.src = photo.url;
        return img;
      }),
    );
    this.photoStrip.hidden = this.photoStrip.children.length === 0;
  }

  hideError() {
    this.error.hidden = true;
    this.error.textContent = "";
  }
}

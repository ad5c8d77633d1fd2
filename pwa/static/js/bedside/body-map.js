// The body map: Front/Back toggle, a region tapped, clicked or chosen with Enter/Space picks
// its site, the patient's side and the face of the site that view shows; the head, a hand or a
// foot zooms into its finer sites, with "Back to body". The figures' markup (which region is
// which side and face) lives in partials/_bedside_capture_body_map.html.

export class BodyMap extends EventTarget {
  constructor(root) {
    super();
    this.root = root;
    this.face = "front";
    this.part = "";
    this.views = Array.from(root.querySelectorAll("[data-map-view]"));
    this.regions = Array.from(root.querySelectorAll("[data-site][data-side]"));
    this.zooms = Array.from(root.querySelectorAll("[data-map-zoom]"));
    root.querySelectorAll("[data-map-show]").forEach((button) => {
      button.addEventListener("click", () => this.show(button.dataset.mapShow, this.part));
    });
    root.querySelectorAll("[data-map-back]").forEach((button) => {
      button.addEventListener("click", () => this.leave());
    });
    const act = (element, action) => {
      element.addEventListener("click", action);
      if (element.tagName.toLowerCase() !== "button") {
        element.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            action();
          }
        });
      }
    };
    this.regions.forEach((region) => act(region, () => this.pick(region)));
    this.zooms.forEach((zoom) => act(zoom, () => this.enter(zoom.dataset.mapZoom)));
  }

  // The whole body from the front or back, or a zoomed part ("hand-R") seen from that face.
  show(face, part = "") {
    this.face = face;
    this.part = part;
    const key = part ? `${part}-${face}` : face;
    this.views.forEach((view) => {
      // An <svg> has no "hidden" property (SVGElement is not an HTMLElement): the attribute.
      view.toggleAttribute("hidden", view.dataset.mapView !== key);
    });
    this.root.querySelectorAll("[data-map-show]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.mapShow === face));
    });
    const back = face === "back";
    this.root.querySelector("[data-map-hint-front]").hidden = back;
    this.root.querySelector("[data-map-hint-back]").hidden = !back;
  }

  enter(part) {
    this.show(this.face, part);
    const view = this.current();
    const first = view && view.querySelector("[data-map-back]");
    if (first) {
      first.focus();
    }
  }

  // Back to the whole body, the part's own region focused (where the finger was).
  leave() {
    const part = this.part;
    this.show(this.face);
    const region = this.current().querySelector(`[data-map-zoom="${CSS.escape(part)}"]`);
    if (region) {
      region.focus();
    }
  }

  current() {
    return this.views.find((view) => !view.hasAttribute("hidden"));
  }

  // The whole body from the front again (a new photo starts there).
  reset() {
    this.show("front");
  }

  pick(region) {
    const { site, side, aspect } = region.dataset;
    this.dispatchEvent(new CustomEvent("pick", { detail: { site, side, aspect: aspect || "" } }));
  }

  // Shows the chosen site: every region of that site, side (or midline) and face is pressed,
  // and the part of the whole body that holds it (a hand for a finger) is marked.
  // A face no view shows (the inner side of a thigh) marks the site in every view.
  mark(site, side, aspect) {
    const sideFits = (region) => region.dataset.side === side || region.dataset.side === "U";
    const ofSite = this.regions.filter((region) => region.dataset.site === site && sideFits(region));
    const shown = ofSite.some((region) => region.dataset.aspect === aspect);
    this.regions.forEach((region) => {
      const chosen = ofSite.includes(region) && (!shown || region.dataset.aspect === aspect);
      region.setAttribute("aria-pressed", String(chosen));
      region.classList.toggle("is-chosen", chosen);
    });
    this.zooms.forEach((zoom) => {
      const holds = zoom.dataset.mapContains.split(" ").includes(site) && sideFits(zoom);
      zoom.classList.toggle("is-chosen", holds);
    });
  }
}

// The body map: Front/Back toggle, and a region tapped, clicked or chosen with Enter/Space
// picks its site and the patient's side. The figure's markup (which region is which side)
// lives in partials/_bedside_capture_body_map.html.

export class BodyMap extends EventTarget {
  constructor(root) {
    super();
    this.root = root;
    this.regions = Array.from(root.querySelectorAll("[data-site][data-side]"));
    root.querySelectorAll("[data-map-show]").forEach((button) => {
      button.addEventListener("click", () => this.show(button.dataset.mapShow));
    });
    this.regions.forEach((region) => {
      region.addEventListener("click", () => this.pick(region));
      region.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          this.pick(region);
        }
      });
    });
  }

  show(figureId) {
    this.root.querySelectorAll("[data-map-figure]").forEach((figure) => {
      // An <svg> has no "hidden" property (SVGElement is not an HTMLElement): the attribute.
      figure.toggleAttribute("hidden", figure.id !== figureId);
    });
    this.root.querySelectorAll("[data-map-show]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.mapShow === figureId));
    });
    const back = figureId === "map-back";
    this.root.querySelector("[data-map-hint-front]").hidden = back;
    this.root.querySelector("[data-map-hint-back]").hidden = !back;
  }

  pick(region) {
    this.dispatchEvent(new CustomEvent("pick", { detail: { site: region.dataset.site, side: region.dataset.side } }));
  }

  // Shows the chosen site: every region of that site on that side (or midline) is pressed.
  mark(site, side) {
    this.regions.forEach((region) => {
      const chosen = region.dataset.site === site && (region.dataset.side === side || region.dataset.side === "U");
      region.setAttribute("aria-pressed", String(chosen));
      region.classList.toggle("is-chosen", chosen);
    });
  }
}

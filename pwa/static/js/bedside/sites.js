// The body site catalogue as the page received it (the site list's buttons carry each site's
// code, name and rules), and how a clinician says where a photo is: "Left forearm, back",
// "Forearm (both sides)", "Sacrum" (the same words the server uses for a stored photo).

export function readCatalogue(root) {
  const sites = new Map();
  root.querySelectorAll("[data-site-list] [data-site]").forEach((button) => {
    sites.set(button.dataset.site, {
      code: button.dataset.site,
      meaning: button.textContent.trim(),
      paired: button.dataset.paired === "true",
      intimate: button.dataset.intimate === "true",
      aspects: JSON.parse(button.dataset.aspects || "{}"),
    });
  });
  return sites;
}

const SIDE_WORDS = { R: "Right", L: "Left" };

export function siteWithSide(site, laterality, aspect = "") {
  if (!site) {
    return "";
  }
  let where = site.meaning;
  if (SIDE_WORDS[laterality]) {
    where = `${SIDE_WORDS[laterality]} ${site.meaning.charAt(0).toLowerCase()}${site.meaning.slice(1)}`;
  } else if (laterality === "B") {
    where = `${site.meaning} (both sides)`;
  }
  const word = aspect ? site.aspects[aspect] : "";
  return word ? `${where}, ${word}` : where;
}

// Accent- and case-blind, so that "oberarm" finds nothing odd and "ELBOW" finds "Elbow joint".
export function searchKey(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
}

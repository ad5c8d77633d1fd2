// The body site catalogue as the page received it (the site list's buttons carry each site's
// code, name and rules), and how a clinician says where a photo is: "Left forearm",
// "Forearm (both sides)", "Sacrum" (the same words the server uses for a stored photo).

export function readCatalogue(root) {
  const sites = new Map();
  root.querySelectorAll("[data-site-list] [data-site]").forEach((button) => {
    sites.set(button.dataset.site, {
      code: button.dataset.site,
      meaning: button.textContent.trim(),
      paired: button.dataset.paired === "true",
      intimate: button.dataset.intimate === "true",
    });
  });
  return sites;
}

const SIDE_WORDS = { R: "Right", L: "Left" };

export function siteWithSide(site, laterality) {
  if (!site) {
    return "";
  }
  if (SIDE_WORDS[laterality]) {
    return `${SIDE_WORDS[laterality]} ${site.meaning.charAt(0).toLowerCase()}${site.meaning.slice(1)}`;
  }
  if (laterality === "B") {
    return `${site.meaning} (both sides)`;
  }
  return site.meaning;
}

// Accent- and case-blind, so that "oberarm" finds nothing odd and "ELBOW" finds "Elbow joint".
export function searchKey(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
}

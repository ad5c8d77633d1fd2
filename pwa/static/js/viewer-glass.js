// In the OHIF viewer: when /dicomweb refuses a sensitive photo (403, the glass not broken), say
// so over the viewer and link to the break-the-glass page of the study's patient, which comes
// back to this view once a reason is given. The viewer calls refused() for every failed request
// (its httpErrorHandler, set in app-config.js); the notice is shown once.
(function () {
  "use strict";

  let shown = false;

  function statusOf(error) {
    if (!error) return undefined;
    const status = error.status ?? error.request?.status ?? error.response?.status;
    if (status !== undefined) return status;
    // The image loader's own errors only say it: "Couldn't retrieve ... got status 403".
    const found = /got status (\d{3})/.exec(String(error.message ?? error));
    return found ? Number(found[1]) : undefined;
  }

  async function glassLink() {
    const studies = new URLSearchParams(window.location.search).get("StudyInstanceUIDs") || "";
    const study = studies.split(",")[0];
    if (!study) return null;
    const answer = await fetch(
      `/dicomweb/studies?StudyInstanceUID=${encodeURIComponent(study)}&includefield=00100021`,
      { headers: { Accept: "application/dicom+json" } },
    );
    if (answer.status !== 200) return null;
    const [found] = await answer.json();
    const mrn = found?.["00100020"]?.Value?.[0];
    const issuer = found?.["00100021"]?.Value?.[0] || "";
    if (!mrn) return null;
    const back = window.location.pathname + window.location.search;
    return (
      `/patients/${encodeURIComponent(mrn)}/break-glass?issuer=${encodeURIComponent(issuer)}` +
      `&next=${encodeURIComponent(back)}`
    );
  }

  async function refused(error) {
    if (statusOf(error) !== 403 || shown) return;
    shown = true;
    const notice = document.createElement("div");
    notice.className = "pointcare-sealed";
    notice.setAttribute("role", "alert");
    Object.assign(notice.style, {
      position: "fixed",
      top: "4.5rem",
      left: "50%",
      transform: "translateX(-50%)",
      zIndex: "10000",
      maxWidth: "32rem",
      padding: "1rem 1.25rem",
      borderRadius: "0.5rem",
      background: "#fff8e1",
      color: "#1f1f1f",
      font: "16px/1.5 system-ui, sans-serif",
      boxShadow: "0 4px 16px rgba(0, 0, 0, 0.5)",
    });
    const text = document.createElement("p");
    text.style.margin = "0 0 0.5rem";
    text.textContent =
      "A sensitive photo in this study is not shown. To see it, give a reason: it goes on the record.";
    notice.append(text);
    const link = await glassLink();
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = "Give a reason to see it";
      Object.assign(anchor.style, { color: "#0b57d0", fontWeight: "600" });
      notice.append(anchor);
    }
    document.body.append(notice);
  }

  window.pointcareViewer = { refused };
})();

// What the pages' scripts share for requests: the CSRF token the server expects on each
// POST (from the page's <meta name="csrf-token">) and reading a problem JSON answer.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// The server's reason for a refusal, in words a person can act on: the problem's detail (which
// already names every field in error), else its field errors; anything unreadable falls back to
// the status.
export function problemReason(status, text) {
  try {
    const problem = JSON.parse(text);
    if (problem && typeof problem.detail === "string" && problem.detail) {
      return problem.detail;
    }
    const fields = problem && problem.errors ? Object.values(problem.errors) : [];
    if (fields.length) {
      return fields.join(" ");
    }
  } catch (_) {
    // not JSON: a proxy's page, say; the status is all there is
  }
  if (status === 401) {
    return "You are no longer signed in. Sign in again in a new tab, then send again.";
  }
  if (status === 403) {
    return "The server refused this (not allowed). Reload the page, then send again.";
  }
  return `The server refused this (error ${status}).`;
}

// Leaving the page with photos or clips not yet stored loses them: reloading, closing, a link
// (Change patient) or a form elsewhere on the page (Sign out) asks first.
import { counted } from "./queue.js";

const RESET_MS = 3000;

export function guardLeaving(queue) {
  let confirmed = false;
  const message = () => {
    const count = queue.unsent;
    const what = `${counted(queue.unsentItems)} ${count === 1 ? "has" : "have"}`;
    return `${what} not been stored yet. If you leave now, ${count === 1 ? "it is" : "they are"} lost. Leave anyway?`;
  };
  const ask = (event) => {
    if (event.defaultPrevented || queue.unsent === 0) {
      return;
    }
    if (!window.confirm(message())) {
      event.preventDefault();
      return;
    }
    confirmed = true;
    setTimeout(() => {
      confirmed = false;
    }, RESET_MS);
  };

  window.addEventListener("beforeunload", (event) => {
    if (!confirmed && queue.unsent > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    const inPage = link && link.getAttribute("href").startsWith("#");
    if (link && !inPage && !link.target && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      ask(event);
    }
  });
  document.addEventListener("submit", (event) => {
    if (event.target.method !== "dialog" && !event.target.matches("[data-idle-lock-form]")) {
      ask(event);
    }
  });
}

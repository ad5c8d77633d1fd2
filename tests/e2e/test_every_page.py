"""Every page on a narrow phone (360 px wide) and a tablet (820 x 1180), as gloved fingers use
them: every visible link, button and control is at least 44 x 44 CSS pixels, and nothing
scrolls sideways, neither the page nor a part of it.

The pages are those of ``tests/support/tour.py``, which the first test holds to the app's own
list of page routes (the bedside tag sheet also with its body map zoomed into the head, a hand and
a foot). Each device walks the whole tour in one browser context per user, and one
assertion lists every problem found, page by page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from pointcare.web.pages import PAGE_ROUTES
from tests.support.server import LiveServer
from tests.support.tour import DEVICES, NOT_PAGES, STOPS, walk

MIN_TARGET = 44
# What a finger can tap: links, buttons, form controls (with their labels, which take the tap
# for them), disclosure summaries, and anything scripted to act as a button.
SMALL_TARGETS = """(minimum) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [role=switch], [role=link], [role=tab], [tabindex]:not([tabindex="-1"])';
  const name = (el) => {
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 40);
    const id = el.id ? '#' + el.id : '';
    return `${el.tagName.toLowerCase()}${id} "${text}"`;
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el === document.querySelector('main') || el.closest('[inert]') || el.disabled) continue;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const rects = [el.getBoundingClientRect(), ...[...(el.labels || [])].map(
      (label) => label.getBoundingClientRect())].filter((r) => r.width > 1 && r.height > 1);
    if (rects.length === 0) continue;  // visually hidden and unlabelled: nothing to tap
    if (rects.some((r) => r.width >= minimum - 0.5 && r.height >= minimum - 0.5)) continue;
    const best = rects.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
    small.push(`${name(el)} ${Math.round(best.width)}x${Math.round(best.height)}`);
  }
  return small;
}"""

SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) found.push(`the page is ${page} px wide in ${width}`);
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName.toLowerCase()}.${el.className} scrolls sideways `
        + `(${el.scrollWidth} px in ${el.clientWidth})`);
    } else if (page > width && el.getBoundingClientRect().right > width + 1
               && el.children.length === 0) {
      found.push(`${el.tagName.toLowerCase()}.${el.className} reaches `
        + `${Math.round(el.getBoundingClientRect().right)} px`);
    }
  }
  return found.slice(0, 8);
}"""


def test_the_tour_covers_every_page() -> None:
    pages = {
        path
        for handler in PAGE_ROUTES
        if "GET" in getattr(handler, "http_methods", ())
        for path in getattr(handler, "paths", ())
    }
    toured = {stop.route for stop in STOPS if stop.route}
    assert pages - NOT_PAGES == toured


@pytest.mark.slow
@pytest.mark.parametrize("device", ["narrow-phone", "tablet"])
def test_every_page_has_large_targets_and_no_sideways_scrolling(
    device: str, chromium: Browser, live_server: LiveServer
) -> None:
    problems: list[str] = []
    for stop, page in walk(chromium, DEVICES[device], live_server.url):
        for small in page.evaluate(SMALL_TARGETS, MIN_TARGET):
            problems.append(f"{stop.name}: {small} (under {MIN_TARGET} x {MIN_TARGET})")
        for wide in page.evaluate(SIDEWAYS):
            problems.append(f"{stop.name}: {wide}")
    assert problems == [], "\n".join(problems)

"""The list page of every kind: each row's Details link on screen at a laptop and a phone width without scrolling
sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOT_DIR

pytestmark = pytest.mark.browser

KINDS = ["audit", "events", "jobs", "notifications", "sessions", "grants"]

# Where each Details link is, where it would have to be scrolled to, and whether it is the element drawn there
# (a link under a sticky neighbour or off the edge of a scroll box is in the page, but nobody can see or click it).
DETAILS_LINKS = """() => {
  const links = [...document.querySelectorAll("#results tbody td[data-label=Details] a.btn")];
  const scroller = document.querySelector(".results-table").getBoundingClientRect();
  return links.map((link, index) => {
    const top = window.scrollY + link.getBoundingClientRect().top - 300;
    if (index === 0) window.scrollTo({top: top, behavior: "instant"});
    const box = link.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return {
      left: box.left, right: box.right, shown_up_to: Math.min(window.innerWidth, scroller.right),
      drawn: index > 0 || (hit !== null && link.contains(hit)),
    };
  });
}"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_every_rows_details_link_is_on_screen_without_scrolling_sideways(console, kind: str, viewport) -> None:
    page = console.page("tenant_admin", viewport=viewport)
    page.goto(f"/monitoring/{kind}/?preset=last30")
    expect(page.locator("#results tbody tr").first).to_be_visible()
    links = page.evaluate(DETAILS_LINKS)
    assert len(links) == page.locator("#results tbody tr").count() > 0
    width = viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{kind} scrolls sideways at {width} px"
    assert page.evaluate("window.scrollX") == 0
    assert page.evaluate("document.querySelector('.results-table').scrollLeft") == 0
    off_screen = [n for n, link in enumerate(links) if not 0 <= link["left"] < link["right"] <= link["shown_up_to"]]
    assert not off_screen, f"{kind} at {width} px: rows {off_screen} have their Details link past the edge"
    assert links[0]["drawn"], f"{kind} at {width} px: the first row's Details link is covered"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"list-details-{kind}-{width}.png"))

"""The list page of every kind: each row's Details link on screen at a laptop and a phone width without scrolling
sideways, and a search form that always agrees with the address bar and the rows (in-place searches, Back, Forward).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOT_DIR
from tests.browser.test_use_cases import ask, results_settled

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


SUMMARY = "#range-summary, #empty-state .h5"  # which rows: "1–50 of 90", or why there are none


def form_state(page: Any) -> dict[str, Any]:
    """What the search form shows: the question, the quick search and the date range control's visible text."""
    return page.evaluate(
        """() => {
          const preset = document.querySelector("#preset");
          return {q: document.querySelector("#q").value, search: document.querySelector("#search").value,
                  preset: preset.value, preset_text: preset.selectedOptions[0].textContent.trim()};
        }"""
    )


def assert_form_matches_url(page: Any, *, preset_text: str) -> None:
    """The form shows what the address bar says, and the rows are the ones that URL selects (what a reload shows)."""
    results_settled(page)
    query = parse_qs(urlsplit(page.url).query)
    state = form_state(page)
    assert state["q"] == query.get("q", [""])[0], (page.url, state)
    assert state["search"] == query.get("search", [""])[0], (page.url, state)
    assert state["preset"] == query.get("preset", [""])[0], (page.url, state)
    assert state["preset_text"] == preset_text, (page.url, state)
    shown = page.locator(SUMMARY).inner_text().strip()
    reloaded = page.context.new_page()
    reloaded.goto(page.url)
    expect(reloaded.locator(SUMMARY)).to_have_text(shown)
    assert form_state(reloaded) == state, (page.url, state, form_state(reloaded))
    reloaded.close()


def test_back_and_forward_restore_a_form_that_matches_the_url_and_the_rows(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/audit/")
    assert_form_matches_url(page, preset_text="Last 7 days (default)")

    ask(page, "action is update")
    # A question searches all time unless it names a period: the empty date choice says so at once.
    assert_form_matches_url(page, preset_text="Any time")
    question_url = page.url

    page.select_option("#preset", "last30")
    expect(page).to_have_url(re.compile(r"preset=last30"))
    assert_form_matches_url(page, preset_text="Last 30 days")

    page.go_back()
    expect(page).to_have_url(question_url)
    assert_form_matches_url(page, preset_text="Any time")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/monitoring/audit/$"))
    assert_form_matches_url(page, preset_text="Last 7 days (default)")

    page.go_forward()
    expect(page).to_have_url(question_url)
    assert_form_matches_url(page, preset_text="Any time")


def test_back_after_a_quick_search_restores_a_form_that_matches_the_url(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/audit/?preset=last30")
    page.fill("#search", "google")
    page.press("#search", "Enter")
    expect(page).to_have_url(re.compile(r"search=google"))
    assert_form_matches_url(page, preset_text="Last 30 days")
    search_url = page.url

    page.fill("#search", "")
    page.select_option("#preset", "today")
    expect(page).to_have_url(re.compile(r"preset=today"))
    assert_form_matches_url(page, preset_text="Today")

    page.go_back()
    expect(page).to_have_url(search_url)
    assert_form_matches_url(page, preset_text="Last 30 days")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/monitoring/audit/\?preset=last30$"))
    assert_form_matches_url(page, preset_text="Last 30 days")


# Every choice box of the Advanced filters and whether it is drawn where it is: a box scrolled out of a clipped
# list is in the page but nobody sees it (issue 22, item 8: two event types hid in a scroll box 8rem high).
CHOICE_BOXES = """() => [...document.querySelectorAll("#advanced fieldset input[type=checkbox]")].map(box => {
  box.scrollIntoView({block: "center", behavior: "instant"});
  const list = box.closest("fieldset").getBoundingClientRect();
  const own = box.getBoundingClientRect();
  return {value: box.value, inside: own.top >= list.top && own.bottom <= list.bottom,
          clipped: [...document.querySelectorAll("#advanced fieldset *")].some(
            el => el.contains(box) && el.scrollHeight > el.clientHeight + 1
                  && getComputedStyle(el).overflowY !== "visible")};
})"""


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_every_event_type_choice_shows_without_a_scroll_box(console, viewport) -> None:
    page = console.page("tenant_admin", viewport=viewport)
    page.goto("/monitoring/events/")
    if viewport is MOBILE:  # on a phone the filter fields fold away behind one button
        page.get_by_role("button", name="Filters: quick search and dates").click()
    page.get_by_role("button", name="Advanced").click()
    expect(page.locator("#advanced")).to_be_visible()
    boxes = page.evaluate(CHOICE_BOXES)
    event_types = [box for box in boxes if box["value"] in {"login", "login_failed", "logout"}]
    assert len(event_types) == 3, boxes  # the event types are there to check
    hidden = [box["value"] for box in boxes if box["clipped"] or not box["inside"]]
    assert not hidden, f"at {viewport['width']} px these choices hide in a scroll box: {hidden}"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("#advanced").screenshot(path=str(SCREENSHOT_DIR / f"advanced-filters-{viewport['width']}.png"))

"""Incident triage on a list page (issue 22): auto-refresh brings new rows in place and rests while the tab is
hidden, "/" jumps to the question box, and the console's own activity can be hidden.

New rows come from real sign-ins: each sign-in of the ``arrivals`` user writes a login event, and the page under test
shows only that user's events. The page's clock is Playwright's, so a refresh interval passes at once.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOT_DIR, USERS, blocking, run_axe
from tests.browser.test_use_cases import results_settled

pytestmark = pytest.mark.browser

ARRIVALS = f"/monitoring/events/?search={USERS['arrivals'][0].replace('@', '%40')}"
ROWS = "#results tbody tr"
HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "visible"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def arrive(console) -> None:
    """A new login event of the arrivals user, written by signing in through the console's form."""
    console.page("arrivals", fresh=True).context.close()


def list_requests(page: Any) -> list[str]:
    """Every request the page makes for the events list from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/monitoring/events/" in request.url else None)
    return seen


def test_auto_refresh_brings_a_new_row_in_place_and_keeps_the_focus(console) -> None:
    arrive(console)  # at least one row, so there is a link to keep the focus on
    page = console.page("auditor")
    page.clock.install()
    page.goto(f"{ARRIVALS}&refresh=10")
    expect(page.locator("#auto-refresh")).to_be_checked()
    expect(page.locator("#refresh-status")).to_contain_text("Last refreshed")
    before = page.locator(ROWS).count()
    assert before >= 1
    page.evaluate("window.notReloaded = true")
    focused = page.locator("#results td.col-details a").last
    href = focused.get_attribute("href")
    focused.focus()

    arrive(console)
    requests = list_requests(page)
    page.clock.fast_forward(11_000)
    expect(page.locator(ROWS)).to_have_count(before + 1)
    page.clock.run_for(1_000)  # the announcement is written a moment after the swap
    assert page.evaluate("window.notReloaded") is True
    assert len(requests) == 1 and "refresh=10" in requests[0]
    assert page.evaluate("document.activeElement.getAttribute('href')") == href  # same record, one row lower
    expect(page.locator("#live-status")).to_have_text("1 new events at the top.")
    expect(page.locator(f"{ROWS}.row-new")).to_have_count(1)
    expect(page.locator("#refresh-status")).to_contain_text("Last refreshed")


def test_auto_refresh_rests_while_the_tab_is_hidden_and_catches_up_when_shown(console) -> None:
    page = console.page("auditor")
    page.clock.install()
    page.goto(f"{ARRIVALS}&refresh=10")
    before = page.locator(ROWS).count()
    page.evaluate(HIDE)
    expect(page.locator("#refresh-status")).to_have_text("Paused while the tab is hidden.")
    requests = list_requests(page)
    arrive(console)
    page.clock.fast_forward(60_000)
    page.wait_for_timeout(500)  # time for a request, had one been made
    assert requests == []
    expect(page.locator(ROWS)).to_have_count(before)

    page.evaluate(SHOW)
    page.clock.run_for(100)  # a refresh fell due while hidden: it runs at once
    expect(page.locator(ROWS)).to_have_count(before + 1)
    assert len(requests) == 1


def test_auto_refresh_waits_on_older_pages_and_is_switched_in_the_url(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/?preset=last30")
    expect(page.locator("#auto-refresh")).not_to_be_checked()
    page.locator("#auto-refresh").check()
    expect(page).to_have_url(re.compile(r"[?&]refresh=30(&|$)"))
    results_settled(page)
    expect(page.locator("#auto-refresh")).to_be_checked()
    page.locator(".pager a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"[?&]cursor="))
    results_settled(page)
    page.clock.install()
    requests = list_requests(page)
    page.evaluate(SHOW)  # reschedules: on an older page it only says why it waits
    page.clock.fast_forward(61_000)
    expect(page.locator("#refresh-status")).to_have_text("Paused on older pages.")
    assert requests == []
    page.locator("#auto-refresh").uncheck()
    expect(page).not_to_have_url(re.compile(r"[?&]refresh="))


def test_slash_focuses_the_question_box_unless_typing_or_with_a_modifier(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/")
    expect(page.locator("#q-help kbd")).to_have_text("/")
    page.locator("h1").click()
    page.keyboard.press("Control+/")
    expect(page.locator("#q")).not_to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("")  # the key moved the focus and typed nothing
    page.keyboard.type("a/b")
    expect(page.locator("#q")).to_have_value("a/b")
    page.locator("#preset").focus()
    page.keyboard.press("/")
    expect(page.locator("#preset")).to_be_focused()


def test_hide_console_activity_and_bring_it_back(console) -> None:
    arrive(console)  # the arrivals user's events are all console sign-ins
    page = console.page("auditor")
    page.goto(ARRIVALS)
    expect(page.locator(ROWS).first).to_be_visible()
    page.get_by_label("Hide console activity").check()
    expect(page).to_have_url(re.compile(r"[?&]console=hide(&|$)"))
    results_settled(page)
    expect(page.locator("#empty-state")).to_be_visible()
    chip = page.get_by_role("link", name="Remove filter Console activity hidden")
    expect(chip).to_be_visible()
    chip.click()
    expect(page.locator(ROWS).first).to_be_visible()
    expect(page.locator("#console-hide")).not_to_be_checked()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_the_new_switches_pass_axe_and_look_right(console, axe_report, viewport) -> None:
    page = console.page("tenant_admin", viewport=viewport)
    page.goto("/monitoring/events/?preset=last30&console=hide&refresh=30")
    expect(page.locator("#auto-refresh")).to_be_checked()
    expect(page.locator("#console-hide")).to_be_checked()
    violations = run_axe(page)
    axe_report[f"list with triage switches ({viewport['width']})"] = {"violations": violations}
    assert not blocking(violations), violations
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"list-triage-{viewport['width']}.png"))

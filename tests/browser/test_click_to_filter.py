"""Click a value to filter: "Only" on an IP address of the event logs, then "Exclude" on an event type, then the
exclusion's chip removed; on a desktop (icons on hover) and on a phone (icons always there, tapped)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import MOBILE, SCREENSHOT_DIR
from tests.browser.test_revoke_and_keyboard import focused, tab_to
from tests.browser.test_use_cases import cells

pytestmark = pytest.mark.browser

EVENTS = "/monitoring/events/?preset=all"


def values(page: Any, label: str) -> list[str]:
    """The value shown in each cell of column ``label`` (the cell's text before its Only/Exclude links)."""
    return cells(page, label).evaluate_all(
        "tds => tds.map(td => (td.querySelector('.badge') || td.firstChild).textContent.trim())"
    )


def params(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def busiest_ip(page: Any) -> str:
    """The IP address of the first page that is on most of its rows, so that other values remain to exclude; not the
    browser tests' own (their sign-ins add events while the package runs)."""
    shown = [ip for ip in values(page, "IP Address") if ip not in {"—", "127.0.0.1", "::1"}]
    return max(shown, key=shown.count)


def test_only_an_ip_then_exclude_an_event_type_then_remove_the_exclusion(console) -> None:
    page = console.page("auditor")
    page.goto(EVENTS)
    ip = busiest_ip(page)
    cell = cells(page, "IP Address").filter(has=page.get_by_role("link", name=f"Only IP Address {ip}", exact=True))
    cell.first.hover()
    only = cell.first.get_by_role("link", name=f"Only IP Address {ip}", exact=True)
    expect(only).to_be_visible()
    only.click()

    expect(page).to_have_url(re.compile(r"ip_address="))
    assert params(page)["ip_address"] == [ip] and params(page)["preset"] == ["all"]
    assert set(values(page, "IP Address")) == {ip}
    expect(page.locator("#active-filters")).to_contain_text(f"Ip address: {ip}")

    types = values(page, "Event Type")
    excluded = types[0]
    first_type = cells(page, "Event Type").first
    first_type.hover()
    page.screenshot(path=str(_screenshot("click-to-filter-desktop")))
    first_type.get_by_role("link", name=f"Exclude Event Type {excluded}", exact=True).click()

    expect(page.locator("#active-filters")).to_contain_text(f"Event type is not {excluded}")
    assert params(page)["ip_address"] == [ip] and len(params(page)["event_type__not"]) == 1
    left = values(page, "Event Type") if page.locator("#results tbody tr").count() else []
    assert excluded not in left
    assert set(values(page, "IP Address")) <= {ip}
    if len(types) < 50:  # the whole result fitted on one page: exactly the other rows remain
        assert sorted(left) == sorted(t for t in types if t != excluded)

    page.get_by_role("link", name=f"Remove filter Event type is not {excluded}").click()
    expect(page.locator("#active-filters")).not_to_contain_text("is not")
    assert "event_type__not" not in params(page) and params(page)["ip_address"] == [ip]
    assert sorted(values(page, "Event Type")) == sorted(types)


def test_on_a_phone_the_links_are_there_to_tap(console) -> None:
    page = console.page("auditor", viewport=MOBILE, touch=True)
    page.goto(EVENTS)
    ip = busiest_ip(page)
    only = page.get_by_role("link", name=f"Only IP Address {ip}", exact=True).first
    expect(only).to_be_visible()
    box = only.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # WCAG 2.2 target size
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    page.screenshot(path=str(_screenshot("click-to-filter-phone")))
    only.tap()
    expect(page).to_have_url(re.compile(r"ip_address="))
    assert set(values(page, "IP Address")) == {ip}


def test_the_links_are_one_tab_stop_and_the_arrow_keys_move_between_them(console) -> None:
    page = console.page("keyboard")
    page.goto(EVENTS)
    stops = page.locator("#results .value-filter a[tabindex='0']")
    expect(stops).to_have_count(1)  # hundreds of links, one stop in the tab order
    tab_to(page, "#results .value-filter a")
    first = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert first.startswith("Only ")
    page.keyboard.press("ArrowRight")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label == "Exclude " + first.removeprefix("Only ")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")  # the same link of the row below
    below = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert below.startswith("Only ") and page.evaluate(
        "document.activeElement.closest('tr') === document.querySelector('#results tbody tr:nth-child(2)')"
    )
    expect(stops).to_have_count(1)  # the stop moved with the focus
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert focused(page, "#results .value-filter a") and (
        page.evaluate("document.activeElement.getAttribute('aria-label')") == below
    )  # Tab comes back to where the user left the table
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href.split("?")[1].split("&")[-1])))


def _screenshot(name: str) -> Any:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"{name}.png"

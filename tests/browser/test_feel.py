"""How the console feels: in-place searches with a loading indicator and shareable URLs, times in the tenant's zone
with their age, long values shortened with the full value on hover, highlighted JSON, remembered questions."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.test_use_cases import ask, cells, results_settled

pytestmark = pytest.mark.browser


def test_search_runs_in_place_with_a_loading_indicator_and_a_shareable_url(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/")
    page.evaluate("window.notReloaded = true")
    held = []
    page.route(re.compile(r"/monitoring/events/\?"), lambda route: held.append(route))
    page.fill("#q", "show failed logins from IP 192.168.1.1")
    page.press("#q", "Enter")
    # While the server has not answered, the spinner shows and the old rows are dimmed.
    expect(page.locator("#results-loading")).to_be_visible()
    expect(page.locator("#results.htmx-request")).to_have_count(1)
    assert held, "the search should be one in-place request"
    assert held[0].request.headers.get("hx-request") == "true"
    held[0].continue_()
    page.unroute(re.compile(r"/monitoring/events/\?"))
    results_settled(page)
    expect(page.locator("#interpretation")).to_contain_text("192.168.1.1")
    # No full reload happened, and the address bar holds the question without empty fields.
    assert page.evaluate("window.notReloaded === true")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["show failed logins from IP 192.168.1.1"]}, page.url

    shared = console.page("tenant_admin")
    shared.goto(page.url)
    expect(shared.locator("#q")).to_have_value("show failed logins from IP 192.168.1.1")
    expect(shared.locator("#range-summary")).to_have_text(page.locator("#range-summary").inner_text())

    page.go_back()  # history works across in-place searches
    expect(page).to_have_url(re.compile(r"/monitoring/events/$"))
    expect(page.locator("#interpretation")).to_have_count(0)


def test_times_in_the_tenants_zone_with_age_and_exact_time_on_hover(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/")
    first = cells(page, "Created On").first.locator("time")
    shown = first.inner_text()
    exact = first.get_attribute("title")
    # Acme's zone is Europe/Berlin: the exact time carries its offset, and the shown time is that local time.
    local = datetime.fromisoformat(exact.split(" ")[0])
    assert local.utcoffset().total_seconds() in (3600, 7200), exact
    assert shown == local.strftime("%Y-%m-%d %H:%M")
    expect(cells(page, "Created On").first.locator(".time-rel")).to_have_text(
        re.compile(r"^(just now|\d+ (s|min|h|d|mo) ago)$")
    )


def test_long_values_are_shortened_with_the_full_value_on_hover(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/")
    agent = cells(page, "User Agent").filter(has=page.locator("[title]")).first
    full = agent.locator("[title]").get_attribute("title")
    shown = agent.inner_text().strip()
    assert len(full) > len(shown) and shown.endswith("…")
    assert full.startswith(shown.rstrip("…"))

    page.goto("/monitoring/audit/?preset=last30")
    # Cells cut by the column width get their full text as a tooltip.
    cut = page.locator("#results td[title]").first
    expect(cut).to_be_attached()
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", cut.element_handle())


def test_json_is_pretty_printed_and_highlighted(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/")
    page.locator("#results a.btn:text-is('Details')").first.click()
    block = page.locator("[data-field=details] pre.json-block")
    expect(block.locator(".json-key").first).to_be_visible()
    text = block.inner_text()
    assert text.startswith("{\n") and '": ' in text  # indented JSON, unchanged by the colours
    expect(block).to_have_attribute("tabindex", "0")  # scrollable with the keyboard


def test_question_box_offers_examples_and_remembers_recent_questions(console) -> None:
    page = console.page("questions")
    page.goto("/monitoring/events/")
    hints = page.locator("#q-hints option")
    values = hints.evaluate_all("options => options.map(o => o.value)")
    assert "show failed logins from IP 192.168.1.1" in values  # the guide's examples
    expect(page.locator("#q")).to_have_attribute("list", "q-hints")

    ask(page, "logouts in the last 7 days")
    ask(page, "lockouts in the last 30 days")
    ask(page, "evnt type is login")  # not understood: not remembered
    page.reload()
    recent = page.locator("#q-hints option[label=Recent]")
    assert recent.evaluate_all("options => options.map(o => o.value)") == [
        "lockouts in the last 30 days",
        "logouts in the last 7 days",
    ]
    # Per user and per page: another page and another user start without them.
    page.goto("/monitoring/jobs/")
    expect(page.locator("#q-hints option[label=Recent]")).to_have_count(0)
    other = console.page("auditor")
    other.goto("/monitoring/events/")
    expect(other.locator("#q-hints option[value='lockouts in the last 30 days']")).to_have_count(0)


def test_choosing_a_preset_replaces_custom_dates(console) -> None:
    page = console.page("auditor")
    page.goto("/monitoring/events/?start=2020-01-01&end=2020-01-31")
    expect(page.locator("#empty-state")).to_contain_text("No events")
    page.select_option("#preset", "last30")  # applies at once, in place
    expect(page).to_have_url(re.compile(r"preset=last30"))
    assert parse_qs(urlsplit(page.url).query) == {"preset": ["last30"]}, page.url
    expect(page.locator("#start")).to_have_value("")
    expect(page.locator("#results tbody tr").first).to_be_visible()

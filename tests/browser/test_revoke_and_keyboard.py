"""Revoking with a confirmation, containing an account from the user view, and keyboard-only use."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_use_cases import cells, results_settled

pytestmark = pytest.mark.browser

# Active sessions of anyone but the guide's user@example.com (user id 123), whom other tests and the screenshots
# look at: revoking and containing here must not change what they see.
ACTIVE_SESSIONS = "/monitoring/sessions/?q=status+is+active+and+user+id+is+not+123"
# A list's "Only" and "Exclude" links share one tab stop per table (app.js, arrow keys inside), so a page of 50 rows
# stays within reach of the keyboard.
MAX_TABS = 300


def focused(page: Any, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Any, selector: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``; fail if it is never reached."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if focused(page, selector):
            return
    raise AssertionError(f"{selector} cannot be reached with {key}")


def test_revoke_a_session_with_the_confirmation(console) -> None:
    page = console.page("tenant_admin")
    page.goto(ACTIVE_SESSIONS)
    row = page.locator("#results tbody tr", has=page.locator(".revoke-link")).first
    details = row.get_by_role("link", name="Details").get_attribute("href")
    row.locator(".revoke-link").click()
    expect(page).to_have_url(re.compile(re.escape(details) + r"\?confirm=revoke"))

    confirm = page.locator("#confirm-revoke")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Revoke session")
    expect(confirm).to_contain_text("must sign in again")
    expect(page.locator("[data-field=status]")).to_contain_text("Active")  # nothing happened yet
    page.fill("#comment", "Browser test: laptop reported lost")
    page.locator("#confirm-revoke-button").click()

    expect(page.get_by_role("alert").filter(has_text="revoked")).to_be_visible()
    expect(page.locator("[data-field=status]")).to_contain_text("Revoked")
    expect(page.locator("#revocation")).to_be_visible()
    expect(page.locator("#revoke-button")).to_have_count(0)

    # The revocation is in the audit log, with the admin as actor and the justification.
    page.goto("/monitoring/audit/?search=laptop+reported+lost")
    audit_row = page.locator("#results tbody tr").first
    expect(audit_row.locator("td[data-label='Action']")).to_have_text(re.compile(r"revoke Session"))
    expect(audit_row.locator("td[data-label='Actor']")).to_have_text("admin@acme.example.com")


def test_contain_an_account_from_the_user_view(console) -> None:
    page = console.page("tenant_admin")
    page.goto(ACTIVE_SESSIONS)
    user_link = cells(page, "User ID").locator("a").first
    user_id = user_link.inner_text().strip()
    user_link.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(user_id)
    assert int(page.locator("#count-sessions").inner_text()) > 0
    page.locator("#contain-account").click()
    confirm = page.locator("#confirm-revoke-all")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Contain account")
    expect(confirm).to_contain_text("active session")
    page.fill("#comment", "Browser test: suspected takeover")
    page.locator("#confirm-revoke-all-button").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("contained")
    expect(page.locator("#revoked-sessions li a").first).to_be_visible()
    page.get_by_role("link", name="Back to the user").click()
    expect(page.locator("#count-sessions")).to_have_text("0")
    expect(page.locator("#count-grants")).to_have_text("0")
    expect(page.locator("#contain-account")).to_be_visible()


def test_keyboard_only_search_paging_details_and_revoke(console) -> None:
    page = console.page("keyboard")
    page.goto("/monitoring/events/?preset=last30")

    # Skip link first, then search: type and press Enter.
    page.keyboard.press("Tab")
    assert focused(page, "a[href='#main']")
    page.keyboard.press("Enter")
    tab_to(page, "#search")
    page.keyboard.type("example.com")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"search=example\.com"))
    results_settled(page)
    expect(page.locator("#range-summary")).to_contain_text("1–50")

    # Paging: the "Older" link, and focus stays on the pager to page on.
    tab_to(page, ".pager a[rel=next]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"cursor="))
    results_settled(page)
    expect(page.locator("#range-summary")).to_contain_text("51–100")
    expect(page.locator(".pager a[rel=next]")).to_be_focused()

    # Details: back up to the last row's Details and open it.
    tab_to(page, "#results td[data-label='Details'] a", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="breadcrumb")).to_contain_text("Event Logs")
    expect(page.locator("[data-field=details]")).to_be_visible()

    # Revoke: the Remove icon, the justification, the confirm button.
    page.goto(ACTIVE_SESSIONS)
    page.keyboard.press("Tab")
    tab_to(page, ".revoke-link")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-revoke")).to_be_visible()
    tab_to(page, "#comment")
    page.keyboard.type("Keyboard test")
    tab_to(page, "#confirm-revoke-button")
    page.keyboard.press("Enter")
    expect(page.locator("[data-field=status]")).to_contain_text("Revoked")

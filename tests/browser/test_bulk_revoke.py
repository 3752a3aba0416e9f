"""Bulk revocation from the Sessions and Grants lists (issue 22): tick rows, confirm with a comment, see them revoked
and audited; the boxes by keyboard and by their spoken names; the controls at a laptop's and a phone's width."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOT_DIR, blocking, run_axe
from tests.browser.test_revoke_and_keyboard import ACTIVE_SESSIONS, focused, tab_to
from tests.browser.test_use_cases import results_settled

pytestmark = pytest.mark.browser


def box_name(singular: str) -> re.Pattern[str]:
    """The spoken name of a row's checkbox: "Select session 1a2b3c4d…"."""
    return re.compile(rf"^Select {singular} \S+$")


ROW_BOX = box_name("session")


def row_boxes(page: Any, singular: str = "session") -> Any:
    return page.get_by_role("checkbox", name=box_name(singular))


def test_revoke_two_selected_sessions_with_one_comment(console) -> None:
    page = console.page("tenant_admin")
    page.goto(ACTIVE_SESSIONS)
    results_settled(page)
    rows = page.locator("#results tbody tr", has=page.locator("input[name=pk]"))
    chosen = [rows.nth(0), rows.nth(1)]
    details = [row.get_by_role("link", name="Details").get_attribute("href") for row in chosen]
    for row in chosen:
        row.get_by_role("checkbox", name=ROW_BOX).check()
    expect(page.locator("#bulk-selected-count")).to_have_text("2 selected")
    page.get_by_role("button", name="Revoke selected…").click()

    confirm = page.locator("#confirm-bulk-revoke")
    expect(confirm.locator("#bulk-count")).to_have_text("Revoke 2 sessions?")
    listed = confirm.locator("#bulk-rows tbody a")
    expect(listed).to_have_count(2)
    assert sorted(listed.nth(i).get_attribute("href") for i in range(2)) == sorted(details)
    comment = f"Browser bulk test {uuid.uuid4().hex[:8]}: two stale sessions"
    page.get_by_label("Comment (required; saved in every audit record)").fill(comment)
    page.get_by_role("button", name="Revoke 2 sessions").click()

    expect(page.locator("#bulk-summary")).to_contain_text("2 sessions revoked")
    expect(page.locator("#bulk-revoked li")).to_have_count(2)
    page.locator("#bulk-audit-link").click()
    results_settled(page)
    audit_rows = page.locator("#results tbody tr")
    expect(audit_rows).to_have_count(2)
    for i in range(2):
        expect(audit_rows.nth(i).locator("td[data-label='Action']")).to_have_text(re.compile(r"revoke Session"))
        expect(audit_rows.nth(i).locator("td[data-label='Actor']")).to_have_text("admin@acme.example.com")
    for href in details:
        page.goto(href)
        expect(page.locator("[data-field=status]")).to_contain_text("Revoked")


def test_the_boxes_work_by_keyboard_and_select_all_ticks_the_page(console) -> None:
    page = console.page("keyboard")
    page.goto(ACTIVE_SESSIONS)
    results_settled(page)
    tab_to(page, "#results tbody input[name=pk]")
    page.keyboard.press("Space")
    expect(page.locator("#bulk-selected-count")).to_have_text("1 selected")
    select_all = page.get_by_role("checkbox", name="Select all on this page")
    expect(select_all).to_have_js_property("indeterminate", True)
    tab_to(page, "#bulk-select-all", backwards=True)
    page.keyboard.press("Space")
    total = row_boxes(page).count()
    assert total > 1
    expect(page.locator("#bulk-selected-count")).to_have_text(f"{total} selected")
    assert row_boxes(page).evaluate_all("boxes => boxes.every(box => box.checked)")
    page.keyboard.press("Space")
    expect(page.locator("#bulk-selected-count")).to_have_text("")
    assert focused(page, "#bulk-select-all")


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
def test_the_bulk_controls_fit_and_the_confirmation_changes_nothing(console, viewport) -> None:
    width = viewport["width"]
    page = console.page("tenant_admin", viewport=viewport, touch=viewport is MOBILE)
    page.goto("/monitoring/grants/")
    results_settled(page)
    expect(page.locator("#bulk-revoke-form")).to_be_visible()
    boxes = row_boxes(page, "grant")
    for i in range(3):
        boxes.nth(i).check()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the list scrolls sideways at {width} px"
    box = boxes.first.bounding_box()
    assert box and box["width"] >= 16 and box["x"] >= 0 and box["x"] + box["width"] <= width
    details = page.locator("#results tbody td[data-label=Details] a.btn").first.bounding_box()
    assert details and details["x"] + details["width"] <= width  # the Details column is still on screen
    assert not blocking(run_axe(page)), "the list with its checkboxes has serious accessibility problems"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("#bulk-revoke-form").evaluate("form => form.scrollIntoView({block: 'start', behavior: 'instant'})")
    page.screenshot(path=str(SCREENSHOT_DIR / f"bulk-revoke-list-{width}.png"))

    page.get_by_role("button", name="Revoke selected…").click()
    expect(page.locator("#bulk-count")).to_have_text("Revoke 3 grants?")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the confirmation scrolls at {width} px"
    assert not blocking(run_axe(page)), "the confirmation has serious accessibility problems"
    page.screenshot(path=str(SCREENSHOT_DIR / f"bulk-revoke-confirm-{width}.png"), full_page=True)
    page.get_by_role("link", name="Cancel").click()
    results_settled(page)
    expect(row_boxes(page, "grant").first).to_be_visible()


def test_older_than_counts_before_anything_happens(console) -> None:
    page = console.page("tenant_admin")
    page.goto("/monitoring/sessions/?user_id=123")
    results_settled(page)
    page.get_by_label("Revoke all active older than").fill("1")
    page.get_by_role("button", name="Count and confirm…").click()
    expect(page.locator("#bulk-selection")).to_contain_text("created more than 1 day ago")
    expect(page.locator("#confirm-bulk-revoke .chip").filter(has_text="123")).to_have_count(1)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "bulk-revoke-older-1440.png"), full_page=True)

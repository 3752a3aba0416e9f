"""The user guide's use cases, walked in a real browser the way a person does them, on the demo data."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

KIND_LABELS = ["Audit Logs", "Event Logs", "Job Logs", "Notification Logs", "Sessions", "Grants"]

# The guide's "Query Examples" (Natural Language Queries section), plus the Sessions and Grants use cases in
# question form: each must be understood and find rows in the demo data.
GUIDE_QUESTIONS: list[tuple[str, str]] = [
    ("audit", "action is 'update IdentityProvider' and the timestamp is from last month"),
    ("audit", "the actor is like example.com"),
    ("audit", "the target is 'test role'"),
    ("audit", "show me all delete actions from yesterday"),
    ("audit", "who modified the google provider last week"),
    ("events", "the event type is login and the log was created in the last 7 days"),
    ("events", "client is auth ui and the log was created one week ago"),
    ("events", "show failed logins from IP 192.168.1.1"),
    ("events", "mfa events for user@example.com yesterday"),
    ("events", "login events where provider is google"),
    ("jobs", 'the job name is "audit log trim"'),
    ("jobs", "job type contains 'email' and status is 'failed'"),
    ("jobs", "the job was created in the last 24 hours"),
    ("jobs", "show running jobs older than 1 hour"),
    ("notifications", "the email subject contains 'totp reset' and the timestamp is from yesterday"),
    ("notifications", "recipient is user@example.com and status is failed"),
    ("notifications", "category is invitation and the log was created last week"),
    ("sessions", "user 123 and status is active"),
    ("grants", "email is user@example.com and status is active"),
]


def list_path(kind: str) -> str:
    return f"/monitoring/{kind}/"


def results_settled(page: Any) -> None:
    """Wait until no in-place (htmx) request is running."""
    expect(page.locator("#results")).to_be_visible()
    expect(page.locator("#results.htmx-request")).to_have_count(0)
    expect(page.locator("#results-loading")).to_be_hidden()


def cells(page: Any, label: str) -> Any:
    """The cells of one column of the results table, by column header."""
    return page.locator(f"#results table tbody td[data-label='{label}']")


def ask(page: Any, question: str) -> None:
    """Type a question in the question box and press Enter, as a person does."""
    page.fill("#q", question)
    page.press("#q", "Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    results_settled(page)


def test_each_role_sees_only_what_it_may_use(console) -> None:
    """Auditor: no export, no revoke, no restore. Tenant admin: export except audit, revoke. Super admin: all."""
    expected = {
        "auditor": {"export": False, "export_audit": False, "restore": False, "revoke": False, "switch": False},
        "tenant_admin": {"export": True, "export_audit": False, "restore": False, "revoke": True, "switch": False},
        "super_admin": {"export": True, "export_audit": True, "restore": True, "revoke": True, "switch": True},
    }
    for role, may in expected.items():
        page = console.page(role, fresh=True)
        menu = page.get_by_role("navigation", name="Monitoring")
        for label in KIND_LABELS:
            expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()
        expect(page.locator("[data-role]")).to_have_attribute("data-role", role)
        expect(page.locator("#tenant-select")).to_have_count(1 if may["switch"] else 0)

        menu.get_by_role("link", name="Audit Logs", exact=True).click()
        expect(page.get_by_role("heading", name="Audit Logs")).to_be_visible()
        expect(page.locator("#export-button")).to_have_count(1 if may["export_audit"] else 0)
        expect(page.locator("#restore-button")).to_have_count(1 if may["restore"] else 0)

        menu.get_by_role("link", name="Event Logs", exact=True).click()
        expect(page.get_by_role("heading", name="Event Logs")).to_be_visible()
        expect(page.locator("#export-button")).to_have_count(1 if may["export"] else 0)
        if may["export"]:
            expect(page.locator("#export-button")).to_have_text("Export Login Events")

        menu.get_by_role("link", name="Sessions", exact=True).click()
        page.select_option("#preset", "last30")
        results_settled(page)
        expect(page.locator("#results th", has_text="Remove")).to_have_count(1 if may["revoke"] else 0)
        if may["revoke"]:
            expect(page.locator("#results .revoke-link").first).to_be_visible()
        else:
            expect(page.locator("#results .revoke-link")).to_have_count(0)

        page.goto("/monitoring/users/user@example.com/")
        expect(page.locator("#contain-account")).to_have_count(1 if may["revoke"] else 0)
        page.close()


def test_who_changed_the_google_idp_configuration_last_week(console) -> None:
    """Search Target "Google", Last 7 days, read the Actor column, open Details, read the diff."""
    page = console.page("auditor")
    page.goto(list_path("audit"))
    page.fill("#search", "Google")
    page.select_option("#preset", "last7")  # applies at once
    expect(page).to_have_url(re.compile(r"search=Google"))
    expect(page).to_have_url(re.compile(r"preset=last7"))
    results_settled(page)
    expect(page.locator("#active-filters")).to_contain_text("search: Google")
    targets = cells(page, "Target").all_inner_texts()
    assert targets and sum("Google" in t for t in targets) >= 3, targets

    rotation = page.locator("#results tbody tr", has_text="Quarterly client secret rotation")
    expect(rotation).to_have_count(1)
    expect(rotation.locator("td[data-label='Action']")).to_have_text("update IdentityProvider")
    actor = rotation.locator("td[data-label='Actor']").inner_text().strip()
    assert "@" in actor
    rotation.get_by_role("link", name="Details").click()

    expect(page.locator("[data-field=actor]")).to_have_text(actor)
    diff = page.locator("#diff-rendered")
    expect(diff.locator(".diff-added", has_text="client_secret_version")).to_be_visible()
    expect(diff.locator(".diff-added", has_text="client_secret_rotated_at")).to_be_visible()
    expect(page.locator("#old-entity")).not_to_contain_text("client_secret_version")
    expect(page.locator("#new-entity")).to_contain_text('"client_secret_version": 2')
    # Old Entity and New Entity side by side on a laptop screen.
    old_box, new_box = page.locator("#old-entity").bounding_box(), page.locator("#new-entity").bounding_box()
    assert old_box["x"] < new_box["x"] and abs(old_box["y"] - new_box["y"]) < 5


def test_why_cant_this_user_log_in(console) -> None:
    """Search the e-mail on Event Logs, see the failed events, open one and read why it failed."""
    page = console.page("tenant_admin")
    page.goto(list_path("events"))
    page.fill("#search", "user@example.com")
    page.press("#search", "Enter")
    expect(page).to_have_url(re.compile(r"search=user%40example\.com"))
    results_settled(page)
    failed = page.locator("#results tbody tr", has=page.locator("td[data-label='Event Type']", has_text="failed"))
    expect(failed.first).to_be_visible()
    assert {e.strip() for e in failed.locator("td[data-label='Email']").all_inner_texts()} == {"user@example.com"}
    expect(page.locator("#results tbody tr", has_text="Account locked").first).to_be_visible()

    failed.first.get_by_role("link", name="Details").click()
    expect(page.locator("[data-field=event_type]")).to_contain_text("failed")
    expect(page.locator("[data-field=email]")).to_have_text("user@example.com")
    expect(page.locator("[data-field=provider_name]")).not_to_be_empty()
    expect(page.locator("[data-field=details] pre")).to_contain_text('"reason"')


@pytest.mark.parametrize(("kind", "question"), GUIDE_QUESTIONS, ids=[q for _, q in GUIDE_QUESTIONS])
def test_guide_question_is_understood_and_finds_rows(console, kind: str, question: str) -> None:
    page = console.page("auditor")
    page.goto(list_path(kind))
    ask(page, question)
    expect(page.locator("#question-error")).to_have_count(0)
    expect(page.locator("#interpretation .chip-question").first).to_be_visible()
    expect(page.locator("#interpretation")).to_contain_text("Understood as")
    expect(page.locator("#results table tbody tr").first).to_be_visible()
    expect(page.locator("#range-summary")).to_contain_text("1–")
    assert parse_qs(urlsplit(page.url).query)["q"] == [question]  # in the URL, to bookmark and share


def test_a_question_that_cannot_be_understood_says_where_and_runs_nothing(console) -> None:
    page = console.page("auditor")
    page.goto(list_path("events"))
    ask(page, "evnt type is login")
    expect(page.locator("#question-error")).to_contain_text("Couldn't understand")
    expect(page.locator("#question-error")).to_contain_text("event type")
    expect(page.locator("#results table")).to_have_count(0)


def _export(page: Any, fmt: str) -> Any:
    page.locator("#export-button").click()
    page.locator(f"#fmt-{fmt}").check()
    with page.expect_download() as info:
        page.locator("#export-submit").click()
    return info.value


def test_export_a_filtered_view_as_csv_and_json(console, tmp_path) -> None:
    page = console.page("tenant_admin")
    page.goto(list_path("events"))
    ask(page, "failed logins for user@example.com")
    summary = page.locator("#range-summary").inner_text()
    match = re.search(r"1–(\d+) of (\d+)", summary)
    assert match, f"expected one page of rows, got {summary!r}"
    shown = int(match.group(2))
    assert shown > 0

    download = _export(page, "csv")
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == shown
    email = next(h for h in rows[0] if h.lower() == "email")
    event_type = next(h for h in rows[0] if h.lower() == "event type")
    assert {r[email] for r in rows} == {"user@example.com"}
    assert {r[event_type] for r in rows} == {"login_failed"}

    download = _export(page, "json")
    assert download.suggested_filename.endswith(".json")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["header"]["kind"] == "events"
    assert data["header"]["count"] == shown == len(data["records"])
    assert data["header"]["filters"]["q"] == "failed logins for user@example.com"
    assert {r["email"] for r in data["records"]} == {"user@example.com"}
    assert {r["event_type"] for r in data["records"]} == {"login_failed"}
    assert "signature" in data["seal"]


def test_restore_an_archive_and_watch_the_job_finish(console, tmp_path) -> None:
    page = console.page("super_admin")
    page.goto(list_path("audit"))
    ask(page, "the target is 'test role'")
    rows = page.locator("#results table tbody tr").count()
    assert rows >= 4
    download = _export(page, "json")
    archive = tmp_path / download.suggested_filename
    download.save_as(archive)

    page.locator("#restore-button").click()
    expect(page.get_by_role("heading", name=re.compile("Restore an archive"))).to_be_visible()
    page.set_input_files("#archive", str(archive))
    page.get_by_role("button", name="Restore").click()

    progress = page.locator("#job-progress")
    expect(progress).to_be_visible()
    expect(page.locator("#job-status")).to_have_text("Success")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    result = page.locator("#restore-result")
    expect(result).to_contain_text("Created 0")
    expect(result).to_contain_text(f"already present {rows}")


def test_hide_and_show_columns_and_the_choice_is_remembered(console) -> None:
    page = console.page("columns")
    page.goto(list_path("notifications"))
    headers = page.locator("#results thead th")
    expect(headers.filter(has_text=re.compile(r"^CC$"))).to_have_count(0)  # hidden by default (guide)
    expect(headers.filter(has_text="Category")).to_have_count(1)

    page.locator("#columns-button").click()
    page.locator("#col-cc").check()
    page.locator("#col-category").uncheck()
    page.get_by_role("button", name="Save columns").click()
    expect(page.get_by_role("alert").filter(has_text="Column choice saved")).to_be_visible()

    page.reload()
    expect(headers.filter(has_text=re.compile(r"^CC$"))).to_have_count(1)
    expect(headers.filter(has_text="Category")).to_have_count(0)

    again = console.page("columns", fresh=True)  # another sign-in: the choice belongs to the user
    again.goto(list_path("notifications"))
    expect(again.locator("#results thead th").filter(has_text=re.compile(r"^CC$"))).to_have_count(1)
    again.locator("#columns-button").click()
    expect(again.locator("#col-cc")).to_be_checked()
    expect(again.locator("#col-category")).not_to_be_checked()


def test_super_admin_switches_tenant(console) -> None:
    page = console.page("switcher", fresh=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Corp")
    page.select_option("#tenant-select", "globex")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Globex Corporation")
    expect(page.locator("#tenant-select")).to_have_value("globex")

    page.goto(list_path("events"))
    emails = {e.strip() for e in cells(page, "Email").all_inner_texts()} - {"—"}
    assert any(e.endswith("@example.org") for e in emails), emails  # Globex's people

    page.select_option("#tenant-select", "acme")
    expect(page.get_by_role("heading", name="Event Logs")).to_be_visible()  # back on the same page
    emails = {e.strip() for e in cells(page, "Email").all_inner_texts()} - {"—"}
    assert emails and not any(e.endswith("@example.org") for e in emails), emails


def test_the_tenant_selector_is_no_keyboard_trap(console) -> None:
    """ArrowDown moves through the tenants without switching at once; Enter switches."""
    page = console.page("switcher", fresh=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Corp")
    page.focus("#tenant-select")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Corp")
    assert page.evaluate("document.activeElement.id") == "tenant-select", "focus stays on the selector"
    chosen = page.eval_on_selector("#tenant-select", "s => s.value")
    assert chosen != "acme", "the arrow moved the choice (a closed select does in Chromium on Linux)"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Acme Corp")
    expect(page.locator("#tenant-select")).to_have_value(chosen)
    page.select_option("#tenant-select", "acme")
    expect(page.locator("#tenant-select")).to_have_value("acme")


def test_insights_line_charts_draw_straight_lines_between_measured_buckets(console) -> None:
    page = console.page("tenant_admin")
    page.goto("/monitoring/insights/?preset=last30")
    page.wait_for_selector(".chart-canvas canvas")
    modes = page.evaluate(
        """() => [...document.querySelectorAll('.chart-canvas canvas')].map(c => window.Chart.getChart(c))
             .filter(chart => chart && chart.config.type === 'line')
             .flatMap(chart => chart.data.datasets.map(d => [d.tension ?? null, d.cubicInterpolationMode ?? null]))"""
    )
    assert modes, "the insights page draws at least one line chart"
    assert all(tension == 0 and mode != "monotone" for tension, mode in modes), modes

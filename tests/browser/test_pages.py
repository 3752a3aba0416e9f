"""Every page of the console at a laptop and a phone width: a screenshot and an axe-core check.

No page may have a serious or critical accessibility violation; the full axe results (minor ones included) are
written to axe-results.json beside the screenshots: data/screenshots/ in a test run, docs/screenshots/ with
`make screenshots`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, ROOT, SCREENSHOT_DIR, blocking, run_axe

pytestmark = pytest.mark.browser

DETAILS = "#results table a.btn:text-is('Details')"


@dataclass(frozen=True)
class Screen:
    """A page to capture: where it is, who looks at it, and what must be on it before the picture is taken."""

    name: str
    path: str
    user: str | None = "super_admin"
    follow: str | None = None  # open the first link matching this selector on ``path`` (a details page)
    ready: str = "main h1"
    full_page: bool = False  # details pages are captured whole, lists at the size of the screen
    act: Callable[[Any], None] | None = field(default=None, compare=False)  # e.g. send a form with errors
    in_readme: bool = True  # error pages and forms with errors are checked, not shown in the README


def _submit(form: str, values: dict[str, str]) -> Callable[[Any], None]:
    """Fill ``values`` (selector -> text) in ``form`` and send it, waiting for the page that answers."""

    def act(page: Any) -> None:
        for selector, text in values.items():
            page.locator(f"{form} {selector}").first.fill(text)
        with page.expect_navigation():
            page.locator(f"{form} [type=submit]").first.click()

    return act


# Error pages, forms that came back with errors and results of actions: axe checks them like every other page, and
# their screenshots stay in data/screenshots/ (the README shows the console, not its error messages). The 404 page is
# not among them: the browser tests' server runs as `make demo` does, with DEBUG on, where Django shows its own.
CHECKED_ONLY = [
    Screen("forbidden", "/settings/retention/", user="auditor", in_readme=False),
    Screen("bad-request", "/monitoring/events/?q=%00", ready="main", in_readme=False),
    Screen(
        "login-error",
        "/login/",
        user=None,
        act=_submit("main form", {"#id_username": "nobody@example.com", "#id_password": "wrong"}),
        ready=".alert-danger, .invalid-feedback, .errorlist",
        in_readme=False,
    ),
    Screen(
        "retention-error",
        "/settings/retention/",
        act=_submit("main form", {"input[type=number]": "-5"}),
        ready=".is-invalid",
        in_readme=False,
    ),
    Screen(
        "rule-form-error",
        "/monitoring/insights/rules/",
        act=_submit("#rule-form", {}),
        ready="#rule-form .is-invalid, #rule-form .invalid-feedback",
        in_readme=False,
    ),
    Screen(
        "audit-verify-result",
        "/monitoring/audit/verify/",
        act=lambda page: _click_and_wait(page, "#verify-chain-run"),
        ready="#verify-chain-run:text('Verify again')",
        in_readme=False,
    ),
]


def _click_and_wait(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


SCREENS = [
    Screen("login", "/login/", user=None),
    Screen("home", "/", ready="#common-questions"),
    Screen("audit", "/monitoring/audit/", ready="#results table"),
    Screen(
        "audit-question", "/monitoring/audit/?q=who+modified+the+google+provider+last+week", ready="#interpretation"
    ),
    Screen(
        "audit-detail",
        "/monitoring/audit/?q=action+is+update+IdentityProvider+and+target+contains+google",
        follow=DETAILS,
        ready="#diff-rendered",
        full_page=True,
    ),
    Screen("audit-restore", "/monitoring/audit/restore/", ready="#archive"),
    Screen("events", "/monitoring/events/", ready="#results table"),
    Screen("events-question", "/monitoring/events/?q=show+failed+logins+from+IP+192.168.1.1", ready="#interpretation"),
    Screen("events-question-error", "/monitoring/events/?q=evnt+type+is+login", ready="#question-error"),
    Screen("events-empty", "/monitoring/events/?preset=today&search=nobody%40nowhere.example", ready="#empty-state"),
    Screen(
        "event-detail",
        "/monitoring/events/?q=failed+logins+for+user%40example.com",
        follow=DETAILS,
        ready="[data-field=details]",
        full_page=True,
    ),
    Screen("jobs", "/monitoring/jobs/?preset=last30", ready="#results table"),
    Screen(
        "job-detail",
        "/monitoring/jobs/?q=the+job+name+is+%22audit+log+trim%22+and+status+is+failed",
        follow=DETAILS,
        ready=".stacktrace",
        full_page=True,
    ),
    Screen("notifications", "/monitoring/notifications/", ready="#results table"),
    Screen(
        "notification-detail",
        "/monitoring/notifications/?q=recipient+is+user%40example.com+and+status+is+failed",
        follow=DETAILS,
        ready="[data-field=body]",
        full_page=True,
    ),
    Screen("sessions", "/monitoring/sessions/", ready="#results table"),
    Screen(
        "session-detail",
        "/monitoring/sessions/?q=status+is+active",
        follow=DETAILS,
        ready="[data-field=details]",
        full_page=True,
    ),
    Screen("grants", "/monitoring/grants/", ready="#results table"),
    Screen(
        "grant-detail",
        "/monitoring/grants/?q=status+is+active",
        follow=DETAILS,
        ready="[data-field=details]",
        full_page=True,
    ),
    Screen(
        "session-revoke-confirm",
        "/monitoring/sessions/?q=status+is+active",
        follow="#results .revoke-link",
        ready="#confirm-revoke",
        full_page=True,
    ),
    Screen("user-view", "/monitoring/users/user@example.com/", ready="#timeline"),
    Screen("user-contain-confirm", "/monitoring/users/user@example.com/?confirm=all", ready="#confirm-revoke-all"),
    Screen("client-view", "/monitoring/clients/auth%20ui/", ready="#timeline"),
    Screen("insights", "/monitoring/insights/"),
    Screen("insights-rules", "/monitoring/insights/rules/"),
    Screen("insights-settings", "/monitoring/insights/settings/"),
    Screen("review", "/monitoring/review/"),
    Screen("retention", "/settings/retention/", ready="main form"),
    Screen("api-tokens", "/settings/api-tokens/"),
    Screen("audit-verify", "/monitoring/audit/verify/", ready="#verify-chain-run"),
    Screen("export-job-confirm", "/monitoring/events/export/?format=json&preset=all&limit=60000", ready="main form"),
    *CHECKED_ONLY,
]


def open_screen(page: Any, screen: Screen) -> None:
    page.goto(screen.path)
    if screen.act:
        screen.act(page)
    if screen.follow:
        link = page.locator(screen.follow).first
        expect(link).to_be_visible()
        page.goto(link.get_attribute("href"))
    expect(page.locator(screen.ready).first).to_be_visible()


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_screenshots_and_accessibility(console, axe_report, screen: Screen) -> None:
    page = console.page(screen.user)
    # `make screenshots` points SCREENSHOT_DIR at docs/screenshots/; the pictures the README does not show stay out
    shots = SCREENSHOT_DIR if screen.in_readme else ROOT / "data" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems = {}
    for label, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        page.set_viewport_size(viewport)
        open_screen(page, screen)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (
            f"{screen.name} scrolls sideways at {viewport['width']} px"
        )
        page.screenshot(path=str(shots / f"{screen.name}-{label}.png"), full_page=screen.full_page)
        violations = run_axe(page)
        axe_report[f"{screen.name} ({label})"] = {
            "url": page.url.removeprefix(console.server.url),
            "violations": violations,
        }
        if blocking(violations):
            problems[label] = blocking(violations)
    assert not problems, f"serious or critical axe violations on {screen.name}: {problems}"


def test_readme_links_every_screenshot() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [
        f"docs/screenshots/{screen.name}-{label}.png"
        for screen in SCREENS
        if screen.in_readme
        for label in ("desktop", "mobile")
        if f"(docs/screenshots/{screen.name}-{label}.png)" not in readme
    ]
    assert not missing, f"README's Screenshots section lacks {missing}"

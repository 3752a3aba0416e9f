"""Browser tests: headless Debian Chromium (Playwright) against a real authmon server holding demo data.

The server is ``manage.py runserver`` in a subprocess with its own data directory and its own database (a SQLite file,
or ``<name>_browser`` next to ``DATABASE_URL``'s database on PostgreSQL), migrated and loaded once with
``load_demo_data`` for the whole package. A separate process, not pytest-django's ``live_server``, because:

* demo data loads once instead of once per test (``live_server`` forces ``transactional_db``, which empties the
  database after every test), which keeps the package within its time budget;
* the server is exactly what ``make demo`` runs: its own settings, static files and in-process tasks;
* Playwright's sync API runs an event loop in the test thread, and Django refuses database calls from a thread with
  a running loop; here the test process never touches the database.

Fixtures and Playwright are package-scoped so that the loop is gone before the rest of the suite runs.
Tests that change state (revocations, column choice, recent questions, tenant switch) use their own users or pick
records that are still in the state they need, so the order of tests does not matter.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

import pytest

from tests import dbrole

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
DEMO_ROWS = 3000
DESKTOP = {"width": 1440, "height": 900}
MOBILE = {"width": 390, "height": 844}
# The tests take every screenshot, into data/screenshots/ (not tracked), so a test run leaves the clone clean;
# `make screenshots` points them at docs/screenshots/ to refresh the README's pictures.
SCREENSHOT_DIR = Path(os.environ.get("AUTHMON_SCREENSHOT_DIR", ROOT / "data" / "screenshots"))
EXPECT_TIMEOUT_MS = 15_000

# Demo console logins (console.demo.DEMO_PASSWORDS) and extra users the tests create, so that per-user state that
# one test changes (column choice, recent questions, the super admin's active tenant) cannot leak into another.
PASSWORD = "browser-test-pass"
USERS: dict[str, tuple[str, str]] = {
    "auditor": ("auditor@acme.example.com", "demo-auditor-pass"),
    "tenant_admin": ("admin@acme.example.com", "demo-admin-pass"),
    "super_admin": ("superadmin@acme.example.com", "demo-super-pass"),
    "columns": ("columns@acme.example.com", PASSWORD),
    "questions": ("questions@acme.example.com", PASSWORD),
    "switcher": ("switcher@acme.example.com", PASSWORD),
    "keyboard": ("keyboard@acme.example.com", PASSWORD),
    "arrivals": ("arrivals@acme.example.com", PASSWORD),  # each sign-in is a new event row (auto-refresh tests)
}
EXTRA_ROLES = {
    "columns": "auditor",
    "questions": "auditor",
    "switcher": "super_admin",
    "keyboard": "tenant_admin",
    "arrivals": "auditor",
}


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    drop_database: Callable[[], None] | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_database(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh ``<name>_browser`` database on the server of ``url`` (``<name>_browser_gw0`` under pytest-xdist);
    returns its URL and how to drop it."""
    import psycopg

    parts = urlsplit(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{parts.path.lstrip('/') or 'authmon'}_browser" + (f"_{worker}" if worker else "")
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{log.read_text()[-4000:]}")


def _setup_script(app_role: str | None) -> str:
    """Migrate, load the demo data and add the tests' own users, in one process (Django starts once); as the owner,
    which then grants the app role (the server's, when the suite runs as it) its privileges."""
    users = [(USERS[key][0], role, USERS[key][1]) for key, role in EXTRA_ROLES.items()]
    script = (
        "from django.core.management import call_command\n"
        "call_command('migrate', interactive=False, verbosity=0)\n"
        f"call_command('load_demo_data', rows={DEMO_ROWS}, verbosity=0)\n"
        f"for email, role, password in {users!r}:\n"
        "    call_command('create_admin', email, tenant='acme', role=role, password=password)\n"
    )
    if app_role:
        script += (
            "from django.db import connection\n"
            "from authmon.dbroles import grant_app_role\n"
            f"with connection.cursor() as cursor: grant_app_role(cursor, {app_role!r})\n"
        )
    return script


def _wait_until_up(server: DemoServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            break
        try:
            with urlopen(f"{server.url}/login/", timeout=2) as response:  # noqa: S310 - loopback http
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"The authmon test server did not start:\n{server.log.read_text()[-4000:]}")


@pytest.fixture(scope="package")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """authmon with demo data on a free loopback port, for this package's tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium).")
    data_dir = tmp_path_factory.mktemp("authmon-browser")
    server = DemoServer(url=f"http://127.0.0.1:{_free_port()}", data_dir=data_dir, log=data_dir / "server.log")
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DEBUG="1", AUTHMON_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    setup_env, role = env, dbrole.app_role()
    if env.get("DATABASE_URL"):
        # Created, migrated and loaded by the owner; served as the app role when the suite runs as it.
        owner_url, server.drop_database = _postgres_database(env.get("DATABASE_OWNER_URL") or env["DATABASE_URL"])
        setup_env = {key: value for key, value in env.items() if key != "DATABASE_OWNER_URL"}
        setup_env["DATABASE_URL"] = owner_url
        env["DATABASE_URL"] = urlunsplit(urlsplit(env["DATABASE_URL"])._replace(path=urlsplit(owner_url).path))
        env.pop("DATABASE_OWNER_URL", None)
    try:
        _run(["shell", "-c", _setup_script(role)], setup_env, server.log)
        with server.log.open("ab") as out:
            server.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", server.url.removeprefix("http://"), "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until_up(server)
        yield server
    finally:
        if server.process is not None:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        if server.drop_database is not None:
            server.drop_database()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def browser(demo_server: DemoServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def _login_states(browser: Any, demo_server: DemoServer) -> dict[str, Any]:
    """Cookies of one signed-in session per user, made on first use; contexts start from them."""
    return {}


def sign_in(page: Any, server: DemoServer, user: str) -> None:
    """Sign in through the login form, as a person does."""
    email, password = USERS[user]
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")


@dataclass
class Console:
    """Opens browser pages against the demo server, signed in as a given user."""

    browser: Any
    server: DemoServer
    states: dict[str, Any]
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # uncaught JavaScript errors of any page opened

    def page(
        self,
        user: str | None = "auditor",
        *,
        viewport: dict[str, int] | None = None,
        fresh: bool = False,
        touch: bool = False,
    ) -> Any:
        """A new page in its own context. ``fresh`` signs in anew instead of reusing the user's session; ``touch``
        emulates a phone's touch screen (no hover, a coarse pointer)."""
        from playwright.sync_api import expect

        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
        state = None if user is None or fresh else self.states.get(user)
        context = self.browser.new_context(
            base_url=self.server.url,
            viewport=viewport or DESKTOP,
            storage_state=state,
            accept_downloads=True,
            locale="en-US",
            timezone_id="Europe/Berlin",
            has_touch=touch,
            is_mobile=touch,
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self._console(message))
        if user is not None and state is None:
            sign_in(page, self.server, user)
            if not fresh:
                self.states[user] = context.storage_state()
        return page

    def _console(self, message: Any) -> None:
        # The console's own pages must never trip its Content-Security-Policy (inline scripts or styles).
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def console(browser: Any, demo_server: DemoServer, _login_states: dict[str, Any]) -> Iterator[Console]:
    """Pages signed in as a role; fails the test on a JavaScript error or a Content-Security-Policy violation."""
    opened = Console(browser=browser, server=demo_server, states=_login_states)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors on the page: {opened.errors}"


# ---- accessibility -----------------------------------------------------------------------------------------------

AXE_BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="package")
def axe_report() -> Iterator[dict[str, Any]]:
    """Collects axe-core results per page and viewport; written next to the screenshots at the end."""
    report: dict[str, Any] = {}
    yield report
    if report:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / "axe-results.json"
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged.setdefault("pages", {}).update(report)
        merged["axe_version"] = axe_version()
        path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")


def axe_version() -> str:
    head = AXE.read_text(encoding="utf-8")[:200]
    return head.split("axe v", 1)[1].split()[0] if "axe v" in head else "unknown"


AXE_URL = "/__tests__/axe.min.js"


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (WCAG 2.x A/AA and best-practice rules).

    axe is served by the browser itself (a route, the server never sees the request) from the page's own origin, so
    the console's Content-Security-Policy (``script-src 'self'``) allows it and stays enforced during the check.
    """
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"))
    page.add_script_tag(url=AXE_URL)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
                count: v.nodes.length,
            }));
        }"""
    )


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in AXE_BLOCKING]

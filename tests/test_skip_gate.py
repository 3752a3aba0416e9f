"""The CI skip gate (tests/skip_gate.py), proved on generated tests run by a separate pytest.

Each case runs pytest in a subprocess on a small test file that skips, with and without ``CI``, on either database,
and checks what that run reports and its exit code: a skip CI does not allow fails the run; outside CI it stays a
skip; an allowed reason (a test about the other database) passes in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTEST_ARGS = ["-p", "tests.skip_gate", "-p", "no:cacheprovider", "-rA", "--color=no"]

SKIPPING_TESTS = """
import pytest


def test_runs():
    assert True


@pytest.mark.skipif(True, reason={reason!r})
def test_marked():
    pass


@pytest.fixture
def needs_something():
    pytest.skip({reason!r})


def test_from_a_fixture(needs_something):
    pass
"""

MODULE_SKIP = """
import pytest

pytest.skip({reason!r}, allow_module_level=True)


def test_never_collected():
    pass
"""


def run_pytest(tmp_path: Path, source: str, *, ci: str | None, database_url: str = "") -> subprocess.CompletedProcess:
    """pytest with only the skip gate as a plugin (no Django, no project config) on one generated test file."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_generated.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PYTHONPATH=str(ROOT), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # no Django, Hypothesis, Playwright
    if ci is not None:
        env["CI"] = ci
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "pytest", *PYTEST_ARGS, "test_generated.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def outcome_lines(result: subprocess.CompletedProcess) -> str:
    return result.stdout.splitlines()[-1] if result.stdout else result.stderr


@pytest.mark.parametrize("ci", ["1", "true"])
def test_in_ci_a_skip_not_on_the_allow_list_fails_the_run(tmp_path, ci):
    result = run_pytest(tmp_path, SKIPPING_TESTS.format(reason="needs REDIS_URL (a real Redis broker)"), ci=ci)
    assert result.returncode == 1, result.stdout
    assert "1 passed, 2 errors" in outcome_lines(result), result.stdout
    assert "skipped" not in outcome_lines(result)
    assert "not on the allow-list for sqlite: 'needs REDIS_URL (a real Redis broker)'" in result.stdout


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_outside_ci_a_skip_stays_a_skip(tmp_path, ci):
    result = run_pytest(tmp_path, SKIPPING_TESTS.format(reason="needs REDIS_URL (a real Redis broker)"), ci=ci)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in outcome_lines(result), result.stdout


def test_in_ci_a_test_about_the_other_database_may_skip(tmp_path):
    on_sqlite = run_pytest(tmp_path, SKIPPING_TESTS.format(reason="needs PostgreSQL: the triggers"), ci="true")
    assert on_sqlite.returncode == 0, on_sqlite.stdout
    assert "1 passed, 2 skipped" in outcome_lines(on_sqlite), on_sqlite.stdout

    on_postgres = run_pytest(
        tmp_path,
        SKIPPING_TESTS.format(reason="needs SQLite: the embedded mode"),
        ci="true",
        database_url="postgres://x/y",
    )
    assert on_postgres.returncode == 0, on_postgres.stdout
    assert "1 passed, 2 skipped" in outcome_lines(on_postgres), on_postgres.stdout


def test_in_ci_the_allow_list_depends_on_the_database(tmp_path):
    """A "needs PostgreSQL" skip is allowed only in the SQLite run: on PostgreSQL such a skip is a broken test."""
    result = run_pytest(
        tmp_path, SKIPPING_TESTS.format(reason="needs PostgreSQL: the triggers"), ci="1", database_url="postgres://x/y"
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed, 2 errors" in outcome_lines(result), result.stdout
    assert "not on the allow-list for postgresql" in result.stdout

    on_sqlite = run_pytest(tmp_path, SKIPPING_TESTS.format(reason="needs SQLite: the embedded mode"), ci="1")
    assert on_sqlite.returncode == 1, on_sqlite.stdout
    assert "not on the allow-list for sqlite" in on_sqlite.stdout


def test_in_ci_a_skipped_module_fails_the_run(tmp_path):
    result = run_pytest(tmp_path, MODULE_SKIP.format(reason="could not import 'playwright'"), ci="1")
    assert result.returncode != 0, result.stdout
    assert "not on the allow-list for sqlite: \"could not import 'playwright'\"" in result.stdout

    outside = run_pytest(tmp_path, MODULE_SKIP.format(reason="could not import 'playwright'"), ci=None)
    assert outside.returncode == 5, outside.stdout  # nothing ran: a skipped module, no failure
    assert "1 skipped" in outcome_lines(outside), outside.stdout


NO_CHROMIUM_PLUGIN = """
from pathlib import Path


def pytest_collection_modifyitems(session, config, items):
    import tests.browser.conftest

    tests.browser.conftest.CHROMIUM = Path("/nonexistent/chromium")  # as on a machine without the browser
"""


REAL_TESTS = [
    "tests/jobs/test_celery_worker.py::test_failing_job_records_the_stacktrace",
    "tests/browser/test_feel.py::test_long_values_are_shortened_with_the_full_value_on_hover",
]


def test_in_ci_the_suite_without_redis_or_chromium_fails(tmp_path):
    """The real tests, run with CI set on a machine without Redis and without Chromium, fail instead of skipping."""
    (tmp_path / "no_chromium.py").write_text(NO_CHROMIUM_PLUGIN)
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(CI="true", PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no_chromium",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--color=no",
            *REAL_TESTS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "2 errors" in outcome_lines(result) and "skipped" not in outcome_lines(result), result.stdout[-3000:]
    assert "not on the allow-list" in result.stdout and "'needs REDIS_URL (a real Redis broker)'" in result.stdout
    assert "Browser tests need Debian's Chromium at /nonexistent/chromium" in result.stdout

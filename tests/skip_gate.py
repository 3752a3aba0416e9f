"""The CI skip gate: with ``CI`` set, a skipped test fails the run unless its reason is on the allow-list below.

A missing browser, Redis, PostgreSQL or module is a failure in CI, never a silent skip that leaves the run green.
The only skips CI accepts are tests about the *other* database: CI runs the suite once on PostgreSQL and once on
SQLite (``.ci/run``), so each of them runs in one of the two passes. A skip reason is allowed when it starts with one
of the prefixes listed for the database this run uses; write such a skip's reason as ``"needs PostgreSQL: why"``
(or ``"needs SQLite: why"``). Everything else (``needs REDIS_URL``, Chromium, an import) fails when ``CI`` is set.

``CI`` counts as set when it is non-empty and not ``0``/``false``/``no`` (CI services set ``CI=true``). Without it
skips stay skips, so a laptop without Chromium or Redis can still run the suite.

tests/conftest.py registers these hooks; tests/test_skip_gate.py runs pytest on generated tests to prove the gate.
"""

from __future__ import annotations

import os

import pytest

# The allow-list, by the database the run uses (see run_database): reason prefixes CI accepts. Keep it short.
ALLOWED_SKIPS: dict[str, tuple[str, ...]] = {
    "sqlite": ("needs PostgreSQL",),  # runs in the PostgreSQL pass
    "postgresql": ("needs SQLite",),  # runs in the SQLite pass
}


def ci_enabled() -> bool:
    """True when the ``CI`` environment variable is set to something other than an explicit "off"."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def run_database() -> str:
    """``"postgresql"`` or ``"sqlite"``: the database this run's tests use.

    Django's configured engine when Django is set up; otherwise ``DATABASE_URL`` read the way authmon.settings reads
    it (unset means the embedded SQLite database).
    """
    from django.conf import settings

    if settings.configured:
        engine = settings.DATABASES["default"]["ENGINE"]
        return "postgresql" if "postgres" in engine else "sqlite" if "sqlite" in engine else engine
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "sqlite"
    return "postgresql" if url.startswith(("postgres:", "postgresql:", "pgsql:")) else url


def skip_reason(longrepr: object) -> str:
    """The reason a skip report carries, without pytest's ``Skipped:`` prefix."""
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return str(reason).removeprefix("Skipped: ").strip()


def skip_allowed(reason: str, database: str) -> bool:
    """Whether CI accepts a skip with this reason in a run on ``database``."""
    return reason.startswith(ALLOWED_SKIPS.get(database, ()))


def _refuse(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip CI does not accept into a failure that names the reason and the allow-list."""
    if not (report.skipped and ci_enabled()) or hasattr(report, "wasxfail"):
        return
    reason, database = skip_reason(report.longrepr), run_database()
    if skip_allowed(reason, database):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"Skipped in CI with a reason that is not on the allow-list for {database}: {reason!r}.\n"
        f"With CI set, only skips starting with {ALLOWED_SKIPS.get(database, ())} may skip (tests/skip_gate.py); "
        "anything else this test needs (a browser, Redis, PostgreSQL) must be installed."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    _refuse(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report = yield
    _refuse(report)
    return report

"""A new kind needs nothing outside its own app (STYLE.md, "Adding a kind"): tests/kindkit, walked in its own process.

The kind's app is installed only there (``tests.kindkit.settings``), so the registry, URLs and API of this run stay
the six kinds'. On PostgreSQL the child gets a test database of its own, and runs as the app role when this run does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dj_database_url
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def child_env() -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.kindkit.settings"}
    env.pop("REDIS_URL", None)  # jobs run in-process: the child has no worker of its own
    if connection.vendor == "postgresql" and os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        name = dj_database_url.parse(url)["NAME"]
        env["DATABASE_URL"] = re.sub(rf"/{re.escape(name)}(\?|$)", rf"/{name}_kindkit\1", url)
    return env


def test_a_kind_that_lives_only_in_the_test_tree_gets_every_page_the_api_retention_trim_and_demo_data():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/kindkit/check_kind.py", "-p", "no:cacheprovider", "--create-db"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"\b7 passed\b", result.stdout), summary

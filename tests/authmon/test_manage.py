"""manage.py: offline tooling runs without a secret; anything that serves still refuses the development key."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "AUTHMON_ALLOW_DEV_SECRET"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_models_and_migrations_agree_without_any_configuration():
    result = run("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_serving_without_a_secret_is_refused():
    result = run("check", "--deploy")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr

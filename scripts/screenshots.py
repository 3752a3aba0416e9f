"""Refresh docs/screenshots/: every console page at 1440x900 and 390x844, with axe-core results.

    python scripts/screenshots.py [--out DIR]

The pictures come from the browser tests (tests/browser/test_pages.py, which holds the list of pages, and
tests/browser/test_click_to_filter.py, which pictures its icons on hover and on a phone); this runs just those
tests. They start their own authmon server with demo data on a free loopback port and drive Debian's Chromium
(/usr/bin/chromium) headless; Playwright's own browser download is not needed. `make screenshots` runs this;
`make test` takes the same pictures into data/screenshots/ (not tracked).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="where the PNGs go")
    args = parser.parse_args()
    env = {**os.environ, "AUTHMON_SCREENSHOT_DIR": str(Path(args.out).resolve())}
    tests = ["tests/browser/test_pages.py", "tests/browser/test_click_to_filter.py"]
    command = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider"]
    return subprocess.call(command, cwd=ROOT, env=env)  # noqa: S603 - fixed command line


if __name__ == "__main__":
    sys.exit(main())

"""Take screenshots of every console page from a running server, in headless Debian Chromium.

    python scripts/screenshots.py --base http://127.0.0.1:8000 --email EMAIL --password PASSWORD [--out DIR]

Used to refresh docs/screenshots/ (and by the browser tests). Chromium comes from Debian (/usr/bin/chromium);
Playwright's own browser download is not needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = [
    ("home", "/"),
    ("audit", "/monitoring/audit/"),
    ("audit-question", "/monitoring/audit/?q=who+modified+the+google+provider+last+week"),
    ("events", "/monitoring/events/"),
    ("events-question", "/monitoring/events/?q=show+failed+logins+from+IP+192.168.1.1"),
    ("events-error", "/monitoring/events/?q=evnt+type+is+login"),
    ("jobs", "/monitoring/jobs/?preset=last30"),
    ("notifications", "/monitoring/notifications/"),
    ("sessions", "/monitoring/sessions/"),
    ("grants", "/monitoring/grants/"),
    ("user-view", "/monitoring/users/user@example.com/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(f"{args.base}/login/")
        page.fill("#id_username", args.email)
        page.fill("#id_password", args.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{args.base}/")
        for name, path in PAGES:
            page.goto(args.base + path)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(out / f"{name}.png")
        first_detail = page.goto(args.base + "/monitoring/audit/?q=who+modified+the+google+provider+last+week")
        assert first_detail is not None
        link = page.locator("a:has-text('Details')").first
        if link.count():
            link.click()
            page.screenshot(path=str(out / "audit-detail.png"), full_page=True)
            print(out / "audit-detail.png")
        browser.close()


if __name__ == "__main__":
    main()

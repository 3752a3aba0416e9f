"""The console itself: sign-in throttling, sign-ins in the event log, API rate limits, security headers, session
lifetime, shortened session ids, and a deployment check that passes with production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from authmon import registry
from authmon.models import ApiToken, Role
from events.models import EventLog
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

ROOT = Path(__file__).resolve().parents[2]


def sign_in(client, email, password, ip="203.0.113.7"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def admin(tenant_a):
    return make_user(tenant_a, Role.TENANT_ADMIN)


def test_console_sign_in_is_an_event_and_an_audit_record(client, admin):
    response = sign_in(client, admin.email, PASSWORD)
    assert response.status_code == 302
    event = EventLog.objects.get(tenant=admin.tenant, event_type="login")
    assert (event.client_name, event.email, event.ip_address) == ("authmon console", admin.email, "203.0.113.7")
    assert AuditLog.objects.filter(tenant=admin.tenant, action="login Console", actor=admin.email).count() == 1


def test_failed_sign_in_is_an_event_of_the_users_tenant(client, admin, tenant_b):
    assert sign_in(client, admin.email, "wrong-password").status_code == 200
    event = EventLog.objects.get(event_type="login_failed")
    assert (event.tenant, event.client_name, event.email) == (admin.tenant, "authmon console", admin.email)
    assert sign_in(client, "nobody@nowhere.example", "x").status_code == 200
    assert EventLog.objects.filter(event_type="login_failed").count() == 1  # no tenant to log an unknown address in


def test_account_is_locked_after_repeated_failures(client, admin, settings):
    settings.AUTHMON_LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        assert sign_in(client, admin.email, "wrong-password").status_code == 200
    response = sign_in(client, admin.email, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.AUTHMON_LOGIN_LOCKOUT_SECONDS
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert EventLog.objects.filter(event_type="account_locked", email=admin.email).count() == 1
    assert EventLog.objects.filter(event_type="login_failed", email=admin.email).count() == 3
    # another account from another address is not affected
    other = make_user(admin.tenant, Role.AUDITOR)
    assert sign_in(Client(), other.email, PASSWORD, ip="198.51.100.1").status_code == 302


def test_success_clears_the_account_count(client, admin, settings):
    settings.AUTHMON_LOGIN_FAILURES_PER_ACCOUNT = 3
    sign_in(client, admin.email, "wrong")
    sign_in(client, admin.email, "wrong")
    assert sign_in(client, admin.email, PASSWORD).status_code == 302
    client.logout()
    sign_in(client, admin.email, "wrong")
    sign_in(client, admin.email, "wrong")
    assert sign_in(client, admin.email, PASSWORD).status_code == 302


def test_an_address_is_throttled_across_accounts(client, tenant_a, settings):
    settings.AUTHMON_LOGIN_FAILURES_PER_IP = 4
    for n in range(4):
        sign_in(client, f"guess{n}@acme.example", "x", ip="192.0.2.9")
    victim = make_user(tenant_a, Role.AUDITOR)
    assert sign_in(Client(), victim.email, PASSWORD, ip="192.0.2.9").status_code == 429
    assert sign_in(Client(), victim.email, PASSWORD, ip="192.0.2.10").status_code == 302


def test_api_answers_429_with_retry_after_per_token(tenant_a, settings):
    settings.AUTHMON_API_RATE_LIMIT = 3
    settings.AUTHMON_API_RATE_WINDOW = 60
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["read"])
    _, other = ApiToken.issue(tenant=tenant_a, scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [api.get("/api/v1/events/").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/v1/events/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Rate limit" in response.json()["detail"]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/v1/events/").status_code == 200


def test_strict_security_headers(client, admin):
    client.force_login(admin)
    for url in (reverse("home"), registry.get("events").list_url, reverse("login")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def test_no_template_has_inline_script_or_style():
    dirs = [Path(d) for engine in django_settings.TEMPLATES for d in engine["DIRS"]]
    dirs += [p / "templates" for p in ROOT.iterdir() if (p / "templates").is_dir() and p.name != "static"]
    found = []
    for directory in dirs:
        for path in directory.rglob("*.html"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if INLINE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, found


def test_console_session_lifetime(client, admin, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    response = sign_in(client, admin.email, PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and not cookie["max-age"]
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False
    response = sign_in(Client(), admin.email, PASSWORD)
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == 8 * 60 * 60


def test_session_ids_are_shortened_in_tables_and_whole_on_details(client, admin, tenant_a):
    sessions, grants = registry.get("sessions"), registry.get("grants")
    sid = "sid-0123456789abcdef-fedcba9876543210"
    session = sample_record(sessions, tenant_a, "short", session_id=sid)
    sample_record(grants, tenant_a, "short", session_id=sid)
    client.force_login(admin)
    for kind in (sessions, grants):
        page = client.get(kind.list_url, {"preset": "all"}).content.decode()
        assert sid not in page, kind.name
        assert sid[:8] + "…" in page
    assert sid in client.get(reverse(sessions.url_name("detail"), args=[session.pk])).content.decode()
    csv = b"".join(client.get(sessions.export_url, {"format": "csv", "preset": "all"}).streaming_content).decode()
    assert sid in csv


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_PRELOAD="1",
        AUTHMON_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_console_has_an_icon_and_favicon_ico_is_not_a_404(client, tenant_admin):
    assert client.get("/favicon.ico").status_code == 301, "browsers ask for it before anyone signs in"
    client.force_login(tenant_admin)
    assert 'rel="icon"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("authmon/favicon.svg")

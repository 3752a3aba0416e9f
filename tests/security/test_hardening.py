"""Issue 14, hardening: pages are never cached, production settings refuse weak keys and insist on TLS, uploads are
authorised before their body is read, and a super admin's look at another tenant is audited there."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as live
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import Client, RequestFactory
from django.urls import resolve, reverse

from audit.models import AuditLog
from authmon import exports, registry
from authmon.models import ApiToken, Role
from authmon.security.uploads import UploadTooLarge, policy_for, upload_handler_limit
from console.demo import demo_data_load
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

ROOT = Path(__file__).resolve().parents[2]
LONG_KEY = "h4-hardening-test-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def manage(tmp_path: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a fresh process, so that settings are read from this environment alone."""
    drop = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "AUTHMON_ALLOW_DEV_SECRET", "DJANGO_SETTINGS_MODULE"}
    drop |= {name for name in os.environ if name.startswith("SECURE_")}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(AUTHMON_DATA_DIR=str(tmp_path), **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SHOW_TLS = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER)"
)


# ------------------------------------------------------------------------------------------------ SECRET_KEY


@pytest.mark.parametrize("key", ["authmon-test-secret-key", "x" * 49, "ab" * 30])
def test_a_weak_secret_key_is_refused_with_debug_off(tmp_path, key):
    result = manage(tmp_path, "check", "--deploy", DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr and "secrets.token_urlsafe(50)" in result.stderr, result.stderr


def test_a_short_key_is_fine_for_development(tmp_path):
    result = manage(tmp_path, "shell", "-c", "print('ok')", DEBUG="1", SECRET_KEY="short")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


# ---------------------------------------------------------------------------------------- production profile


def test_production_defaults_redirect_to_tls_and_send_hsts(tmp_path):
    result = manage(tmp_path, "shell", "-c", SHOW_TLS, DEBUG="0", SECRET_KEY=LONG_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-5:] == ["True", "31536000", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"]


def test_a_tls_terminating_proxy_can_turn_redirect_and_header_off_explicitly(tmp_path):
    result = manage(
        tmp_path,
        "shell",
        "-c",
        SHOW_TLS,
        DEBUG="0",
        SECRET_KEY=LONG_KEY,
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["False", "31536000", "True", "None"]


def test_development_does_not_redirect(tmp_path):
    result = manage(tmp_path, "shell", "-c", SHOW_TLS, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["False", "0", "False", "None"]


def test_check_deploy_is_clean_with_nothing_but_a_good_key(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", DEBUG="0", SECRET_KEY=LONG_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_the_image_build_collects_static_files_without_a_key(tmp_path):
    """The Dockerfile runs collectstatic with DEBUG off and no SECRET_KEY: it signs nothing, so it needs none."""
    result = manage(tmp_path, "collectstatic", "--noinput", "-v", "0", DEBUG="0", STATIC_ROOT=str(tmp_path / "static"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_the_test_suite_itself_is_not_redirected(client, tenant_admin):
    """Tests talk plain HTTP; conftest turns the redirect off for them, not the production default."""
    client.force_login(tenant_admin)
    assert client.get(reverse("home")).status_code == 200


# ---------------------------------------------------------------------------------------------- no-store


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_data_pages_exports_and_api_answers_are_never_stored(client, tenant_a, tenant_admin):
    events = registry.get("events")
    record = sample_record(events, tenant_a, "nostore")
    client.force_login(tenant_admin)
    answers = {
        "list": client.get(events.list_url, {"preset": "all"}),
        "detail": client.get(reverse(events.url_name("detail"), args=[record.pk])),
        "export": client.get(events.export_url, {"format": "csv", "preset": "all"}),
        "home": client.get(reverse("home")),
        "user view": client.get(reverse("user_view", args=["nostore@example.com"])),
        "403": client.get(reverse("retention")),
    }
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["read"], name="nostore")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    answers["api list"] = api.get("/api/v1/events/")
    answers["api 401"] = Client().get("/api/v1/events/")
    answers["login page"] = Client().get(reverse("login"))
    for name, response in answers.items():
        _body(response)
        assert "no-store" in response.get("Cache-Control", ""), f"{name} ({response.status_code}) may be cached"
    assert answers["export"].streaming


def test_static_files_stay_cacheable(client):
    response = client.get("/static/authmon/app.css")
    assert response.status_code == 200
    _body(response)
    assert "no-store" not in response.get("Cache-Control", "")


# ------------------------------------------------------------------------------------------------ uploads

CSRF = "A" * 32  # a CSRF cookie an attacker made up; the form carries the same value, which Django accepts


def _attack_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def _big_archive(size: int) -> io.BytesIO:
    archive = io.BytesIO(b"{" + b" " * size + b"}")
    archive.name = "huge.json"
    return archive


@pytest.fixture
def spooled(monkeypatch, settings, tmp_path):
    """Every upload that would be written to a temporary file, recorded; small files spool too, to keep tests fast."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    made: list[str] = []
    original = TemporaryUploadedFile.__init__

    def record(self, name, *args, **kwargs):
        made.append(name)
        original(self, name, *args, **kwargs)

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", record)
    return made


def _post_archive(client: Client, path: str, size: int):
    return client.post(path, {"csrfmiddlewaretoken": CSRF, "archive": _big_archive(size)})


def _body_was_read(response) -> bool:
    return response.wsgi_request.environ["wsgi.input"].read_started


@pytest.mark.parametrize("who", ["anonymous", Role.AUDITOR, Role.TENANT_ADMIN])
def test_an_unauthorised_upload_is_refused_before_its_body_is_read(who, tenant_a, spooled):
    user = None if who == "anonymous" else make_user(tenant_a, who, f"upload-{who}@acme.example")
    restore_url = reverse(registry.get("audit").url_name("restore"))
    response = _post_archive(_attack_client(user), restore_url, 200_000)
    assert response.status_code == (302 if user is None else 403)
    if user is None:
        assert response["Location"].startswith(reverse("login"))
    assert not _body_was_read(response), "the body was read before authorisation"
    assert spooled == [], "the upload was spooled to disk before authorisation"


def test_an_archive_over_the_limit_is_refused_by_its_length(tenant_a, super_admin, spooled, settings):
    settings.AUTHMON_RESTORE_MAX_BYTES = 1024 * 1024
    response = _post_archive(_attack_client(super_admin), reverse(registry.get("audit").url_name("restore")), 2_000_000)
    assert response.status_code == 413
    assert "larger than the 1 MB upload limit" in response.content.decode()
    assert not _body_was_read(response)
    assert spooled == []
    assert "no-store" in response["Cache-Control"]


def test_an_authorised_upload_within_the_limit_reaches_the_view(tenant_a, super_admin, spooled, settings):
    settings.AUTHMON_RESTORE_MAX_BYTES = 1_000_000
    response = _post_archive(_attack_client(super_admin), reverse(registry.get("audit").url_name("restore")), 5_000)
    assert response.status_code == 400  # the view read it, and refused it as no authmon export
    assert _body_was_read(response)


def test_every_restore_url_is_an_upload_view_with_its_limit():
    """The gate knows the views that take files; a restore view it did not know would refuse every archive."""
    restorable = [kind for kind in registry.kinds() if kind.restorable]
    assert restorable
    for kind in restorable:
        policy = policy_for(resolve(reverse(kind.url_name("restore"))).func)
        assert policy is not None, kind.name
        assert policy.max_bytes() == live.AUTHMON_RESTORE_MAX_BYTES


def test_a_file_sent_to_a_page_that_takes_none_is_not_spooled(tenant_a, spooled):
    response = _post_archive(_attack_client(), reverse("login"), 200_000)
    assert response.status_code == 400
    assert spooled == []


@pytest.mark.django_db
def test_the_default_archive_limit_holds_a_million_audit_records():
    """The default is sized from what an exported audit record weighs (the demo's identity-provider changes)."""
    demo_data_load(rows=1200, seed=3)
    records = AuditLog.objects.filter(tenant__slug="acme").order_by("-timestamp", "-pk")
    count = records.count()
    size = sum(
        len(part.encode())
        for part in exports.stream_json(registry.get("audit"), records, tenant_slug="acme", filters={}, limit=count)
    )
    per_record = size / count
    assert 500 < per_record < 2000, per_record
    assert 1_000_000 * per_record <= live.AUTHMON_RESTORE_MAX_BYTES, f"{per_record:.0f} bytes per record"


def test_a_body_longer_than_it_claims_stops_at_the_limit(settings):
    """Servers that do not cap the body at its Content-Length: the handler stops reading past the limit."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="a.json"\r\n'
        f"Content-Type: application/json\r\n\r\n".encode()
        + b"x" * 300_000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = RequestFactory().post("/", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    request.META["CONTENT_LENGTH"] = "10"  # a lie, and a stream not capped at it
    request._stream = io.BytesIO(body)
    upload_handler_limit(request, 100_000)
    with pytest.raises(UploadTooLarge):
        request.FILES  # noqa: B018


# ------------------------------------------------------------------------------------------------- docs


@pytest.mark.parametrize("name", ["README.md", "docker-compose.yml"])
def test_the_docs_make_a_customers_first_admin_a_tenant_admin(name):
    """Super admin is the operator's role; the docs' customer (acme) gets a tenant_admin."""
    lines = [line for line in (ROOT / name).read_text().splitlines() if "create_admin" in line and "--tenant" in line]
    customer = [line for line in lines if "--tenant acme" in line]
    assert customer, f"{name} shows no customer admin"
    assert all("--role tenant_admin" in line for line in customer), customer
    assert all("--tenant acme" not in line for line in lines if "super_admin" in line)


# ----------------------------------------------------------------------------------------- tenant switch


def _views_of(tenant):
    return AuditLog.objects.filter(tenant=tenant, action="view Tenant")


def test_a_super_admin_switching_tenant_leaves_one_record_there(client, tenant_a, tenant_b, super_admin):
    sample_record(registry.get("events"), tenant_b, "switch")
    client.force_login(super_admin)
    response = client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": "/"})
    assert response.status_code == 302
    for _ in range(3):  # browsing the tenant is not a new switch
        assert client.get(registry.get("events").list_url, {"preset": "all"}).status_code == 200
    client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": "/"})  # the same tenant again
    [record] = _views_of(tenant_b)
    assert record.actor == super_admin.email
    assert tenant_b.slug in record.target
    client.post(reverse("tenant_switch"), {"tenant": tenant_a.slug, "next": "/"})  # home again: no trace needed
    assert not _views_of(tenant_a).exists()
    client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": "/"})
    assert _views_of(tenant_b).count() == 2


def test_others_cannot_switch_and_leave_no_record(client, tenant_a, tenant_b, tenant_admin):
    client.force_login(tenant_admin)
    assert client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug}).status_code == 403
    assert not _views_of(tenant_b).exists()


def test_sign_in_by_password_still_works(client, tenant_admin):
    assert client.login(username=tenant_admin.email, password=PASSWORD)

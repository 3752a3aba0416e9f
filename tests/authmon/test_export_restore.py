"""Exports (JSON seal, CSV neutralisation, job path) and audit archive restore (round trip, refusals)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import exports, registry
from authmon.models import Role
from authmon.restore import RestoreError, archive_restore
from authmon.trim import tenant_trim
from jobs.models import JobLog
from tests.authmon.test_log_views import login
from tests.samples import retain, sample_record


@pytest.fixture
def audit_rows(tenant_a):
    kind = registry.get("audit")
    now = timezone.now()
    rows = [
        sample_record(
            kind,
            tenant_a,
            f"row{i}",
            when=now - dt.timedelta(days=400 + i),
            external_id=f"ext-{i}",
            old_entity={"name": "Google", "config": {"timeout": 30}},
            new_entity={"name": f"Google {i}", "config": {"timeout": 60}},
        )
        for i in range(5)
    ]
    return rows


def export_audit(client, **params):
    response = client.get(registry.get("audit").export_url, {"format": "json", "preset": "all", **params})
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_json_export_round_trip_after_trim(client, tenant_a, audit_rows):
    login(client, tenant_a, Role.SUPER_ADMIN)
    raw = export_audit(client, search="row")
    data = json.loads(raw)
    assert data["header"]["count"] == 5
    before = {r["id"]: r for r in data["records"]}

    retain(tenant_a, audit=365)
    report = tenant_trim(tenant=tenant_a)
    assert report.deleted["audit"] == 5
    assert report.archives, "audit must be archived before it is trimmed"
    assert not AuditLog.objects.filter(pk__in=before).exists()

    result = archive_restore(raw=raw, tenant=tenant_a)
    assert (result.created, result.duplicates) == (5, 0)
    again = archive_restore(raw=raw, tenant=tenant_a)
    assert (again.created, again.duplicates) == (0, 5)

    restored = {
        r.pk: exports.serialize_record(registry.get("audit"), r) for r in AuditLog.objects.filter(pk__in=before)
    }
    assert restored == before


def test_flipping_one_byte_is_refused(client, tenant_a, audit_rows):
    login(client, tenant_a, Role.SUPER_ADMIN)
    raw = export_audit(client, search="row")
    tampered = raw.replace(b"Google 3", b"Google 8", 1)
    assert tampered != raw
    with pytest.raises(RestoreError, match="modified"):
        archive_restore(raw=tampered, tenant=tenant_a)


@pytest.mark.parametrize(
    "mutate,reason",
    [
        (lambda d: d["header"].update(tenant="globex"), "belongs to tenant 'globex'"),
        (lambda d: d["header"].update(kind="events"), "export of Event Logs"),
        (lambda d: d["records"].pop(), "incomplete"),
        (lambda d: d["seal"].update(key_id="nope"), "key this server does not know"),
        (lambda d: d["header"].update(filters={"x": 1}), "bad signature"),
    ],
)
def test_refusals_say_why_and_write_nothing(client, tenant_a, audit_rows, mutate, reason):
    login(client, tenant_a, Role.SUPER_ADMIN)
    data = json.loads(export_audit(client, search="row"))
    AuditLog.objects.filter(pk__in=[r["id"] for r in data["records"]]).purge_expired()
    mutate(data)
    with pytest.raises(RestoreError, match=reason):
        archive_restore(raw=json.dumps(data).encode(), tenant=tenant_a)
    assert not AuditLog.objects.filter(comments__startswith="row").exists()


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty"),
        (b"not json", "Only JSON exports"),
        (b"Action,Target,Actor\r\nupdate User,x,y\r\n", "a CSV export cannot be restored"),
        (b"{not json", "not valid JSON"),
        (b'{"a": 1}', "not an authmon export"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_restore_view_refuses_bad_files(client, tenant_a, content, reason):
    login(client, tenant_a, Role.SUPER_ADMIN)
    url = reverse("audit:auditlog_restore")
    response = client.post(url, {"archive": SimpleUploadedFile("a.json", content, "application/json")})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not JobLog.objects.filter(job_type="import").exists()


def test_restore_view_runs_a_job_and_reports_counts(client, tenant_a, audit_rows, django_capture_on_commit_callbacks):
    login(client, tenant_a, Role.SUPER_ADMIN)
    raw = export_audit(client, search="row")
    ids = [r["id"] for r in json.loads(raw)["records"]]
    AuditLog.objects.filter(pk__in=ids).purge_expired()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("audit:auditlog_restore"), {"archive": SimpleUploadedFile("a.json", raw, "application/json")}
        )
    assert response.status_code == 302
    job = JobLog.objects.get(job_type="import")
    assert job.latest_status == "success", job.stacktrace
    assert job.details["created"] == 5
    assert AuditLog.objects.filter(pk__in=ids).count() == 5
    page = client.get(response["Location"]).content.decode()
    assert "restore-result" in page
    assert AuditLog.objects.filter(action="restore AuditLog").count() == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_only_super_admin_restores(client, tenant_a, role):
    login(client, tenant_a, role)
    assert client.get(reverse("audit:auditlog_restore")).status_code == 403


def test_csv_neutralises_formulas_and_has_visible_columns(client, tenant_a):
    events = registry.get("events")
    sample_record(events, tenant_a, "x", email="=HYPERLINK(evil)", username="+cmd", user_agent="@sum")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.export_url, {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Event Type", "Client Name", "Provider Name"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Email"] == "'=HYPERLINK(evil)"
    assert row["Username"] == "'+cmd"
    assert row["User Agent"] == "'@sum"


@pytest.mark.parametrize("limit", ["0", "1000001", "abc"])
def test_bad_limits_are_explained(client, tenant_a, limit):
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(registry.get("events").export_url, {"format": "csv", "limit": limit}, follow=True)
    assert response.status_code == 200
    assert "number of records" in response.content.decode()


def test_large_export_runs_as_job_and_downloads(
    client, tenant_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.AUTHMON_EXPORT_DIR = tmp_path
    events = registry.get("events")
    for i in range(3):
        sample_record(events, tenant_a, f"big{i}")
    login(client, tenant_a, Role.TENANT_ADMIN)
    assert client.get(events.export_url, {"format": "json", "limit": "60000"}).status_code == 200  # confirmation
    assert not JobLog.objects.filter(job_type="export").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{events.export_url}?format=json&limit=60000")
    assert response.status_code == 302
    job = JobLog.objects.get(job_type="export")
    assert job.latest_status == "success", job.stacktrace
    download = client.get(reverse("jobs:joblog_download", args=[job.pk]))
    assert download.status_code == 200
    data = json.loads(b"".join(download.streaming_content))
    assert data["header"]["count"] == 3
    client.logout()
    login(client, tenant_a, Role.AUDITOR)
    assert client.get(reverse("jobs:joblog_download", args=[job.pk])).status_code == 403


def test_a_bad_record_in_a_later_batch_rolls_back_the_earlier_ones(client, tenant_a, monkeypatch):
    events = registry.get("events")
    rows = [sample_record(events, tenant_a, f"late{i}", external_id=f"late-{i}") for i in range(5)]
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.get(events.export_url, {"format": "json", "preset": "all", "search": "late"})
    data = json.loads(b"".join(response.streaming_content))
    assert data["header"]["count"] == 5
    events.model.objects.filter(pk__in=[r.pk for r in rows]).delete()
    data["records"][4]["event_type"] = "not-a-type"  # invalid, yet sealed again so only validation can refuse it
    digest = hashlib.sha256(b"".join(exports.canonical(r).encode() + b"\n" for r in data["records"])).hexdigest()
    data["seal"] = exports.sign(data["header"], digest)
    monkeypatch.setattr("authmon.restore.BATCH", 2)  # the bad record is in the third batch

    with pytest.raises(RestoreError, match="Record 4 is invalid"):
        archive_restore(raw=json.dumps(data).encode(), tenant=tenant_a, kind_name="events")
    assert not events.model.objects.filter(pk__in=[r.pk for r in rows]).exists()

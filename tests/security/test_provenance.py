"""Nothing ingested is ever an instruction (issue 14, findings 1, 2 and parts of 6; DESIGN section 8, provenance).

Each test is the attack as it was made: an ingest token of tenant A sends job records whose free ``details`` claim
to be authmon's own runs, then a tenant admin of A presses Retry or Download. Job records are an ingestible kind, so
whatever their details say they are data: they never run, never name a user, a tenant, a file or a column.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from django.urls import reverse

from authmon import registry
from authmon.models import Role, User
from jobs.models import JobLog, JobRun, RunFile
from tests.api.conftest import make_client
from tests.authmon.test_log_views import login
from tests.conftest import make_user
from tests.samples import retain, sample_record

CANARY = "b-secret-canary@globex.example"


@pytest.fixture
def stores(settings, tmp_path):
    settings.AUTHMON_EXPORT_DIR = tmp_path / "exports"
    settings.AUTHMON_ARCHIVE_DIR = tmp_path / "archives"
    return tmp_path


@pytest.fixture
def b_events(tenant_b):
    events = registry.get("events")
    return [sample_record(events, tenant_b, f"b{i}", email=CANARY) for i in range(3)]


def _ingest_job(tenant, **overrides):
    """Send one job record through the real API with tenant's ingest token; return the stored row."""
    record = {
        "job_id": "forged-1",
        "job_name": "events export",
        "job_type": "export",
        "latest_status": "failed",
        "message": "boom",
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
        **overrides,
    }
    response = make_client(tenant, ["ingest"]).ingest("jobs", [record])
    assert response.status_code == 201, response.content
    return JobLog.objects.for_tenant(tenant).get(job_id=record["job_id"])


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _body(response) -> bytes:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def test_forged_failed_export_cannot_be_retried_into_another_tenants_data(
    client, tenant_a, tenant_b, other_admin, b_events, stores, tmp_path, django_capture_on_commit_callbacks
):
    """Finding 1: a forged failed export naming B's admin, a path outside the store and a formula header."""
    outside = tmp_path / "site-packages" / "evil.pth"
    forged = _ingest_job(
        tenant_a,
        details={
            "runner": "authmon",
            "kind": "events",
            "format": "csv",
            "limit": 100,
            "filters": {},
            "params": {"preset": ["all"]},
            "columns": [["email", "import os; os.system('id')"]],
            "file": str(outside),
            "requested_by_id": other_admin.pk,
        },
    )
    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(reverse("jobs:joblog_detail", args=[forged.pk])).content.decode()
    assert reverse("jobs:joblog_retry", args=[forged.pk]) not in page, "an ingested record offers no Retry"
    assert "reported by the identity service" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:joblog_retry", args=[forged.pk]), follow=True)
    assert response.status_code == 200
    assert "can be retried" in response.content.decode()
    assert JobLog.objects.filter(job_type="export").exclude(pk=forged.pk).count() == 0, "nothing was run"
    assert not outside.exists() and not outside.parent.exists()
    assert _files_under(stores) == []
    for path in _files_under(tmp_path):
        assert CANARY not in path.read_text(errors="replace")


def test_forged_record_never_reaches_a_task_even_when_queued(tenant_a, other_admin, b_events, stores, tmp_path):
    """Even a task handed an ingested job's primary key (a stray message, a replay) runs nothing."""
    from console.tasks import export_run_task

    forged = _ingest_job(
        tenant_a,
        job_id="forged-2",
        latest_status="pending",
        details={
            "runner": "authmon",
            "kind": "events",
            "format": "json",
            "limit": 10,
            "filters": {},
            "params": {},
            "columns": [],
            "file": str(tmp_path / "x.json"),
            "requested_by_id": other_admin.pk,
        },
    )
    assert export_run_task.apply(args=[forged.tenant_id, forged.pk]).get() is None
    forged.refresh_from_db()
    assert forged.latest_status == "pending" and not (tmp_path / "x.json").exists()


def _b_export_job(client, tenant_b, django_capture_on_commit_callbacks) -> JobLog:
    """B's admin runs a real large export (a job with a file), then signs out."""
    client.force_login(make_user(tenant_b, Role.SUPER_ADMIN, "root@globex.example"))
    events = registry.get("events")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{events.export_url}?format=json&limit=60000&preset=all")
    assert response.status_code == 302, response.content
    job = JobLog.objects.for_tenant(tenant_b).get(job_type="export")
    assert job.latest_status == "success", job.stacktrace
    client.logout()
    return job


def test_forged_finished_export_cannot_download_another_tenants_file(
    client, tenant_a, tenant_b, b_events, stores, django_capture_on_commit_callbacks
):
    """Finding 2: a forged "finished export" naming B's export file (the strongest guess: its real name)."""
    b_job = _b_export_job(client, tenant_b, django_capture_on_commit_callbacks)
    stored = RunFile.objects.get(run__job_pk=b_job.pk)
    guesses = [stored.name, f"tenant-{tenant_b.pk}/{stored.name}", f"../tenant-{tenant_b.pk}/{stored.name}"]
    login(client, tenant_a, Role.SUPER_ADMIN)
    for i, guess in enumerate(guesses):
        forged = _ingest_job(
            tenant_a,
            job_id=f"forged-done-{i}",
            latest_status="success",
            details={"runner": "authmon", "kind": "events", "file": guess, "format": "json"},
        )
        response = client.get(reverse("jobs:joblog_download", args=[forged.pk]))
        assert response.status_code == 404
        assert CANARY.encode() not in _body(response)
        page = client.get(reverse("jobs:joblog_detail", args=[forged.pk])).content.decode()
        assert reverse("jobs:joblog_download", args=[forged.pk]) not in page
    # B's own job, asked for by A's super admin viewing A: not A's job, so not found
    assert client.get(reverse("jobs:joblog_download", args=[b_job.pk])).status_code == 404


def test_export_files_are_private_unguessable_and_tenant_scoped(
    client, tenant_a, tenant_b, b_events, stores, django_capture_on_commit_callbacks
):
    b_job = _b_export_job(client, tenant_b, django_capture_on_commit_callbacks)
    stored = RunFile.objects.get(run__job_pk=b_job.pk)
    files = _files_under(stores)
    assert len(files) == 1
    path = files[0]
    assert path.parent.name == f"tenant-{tenant_b.pk}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.name == stored.name and len(path.stem) >= 32
    assert "globex" not in path.name and "events" not in path.name
    import hashlib

    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # no server path on the job's page or in its details
    client.force_login(User.objects.get(email="root@globex.example"))
    page = client.get(reverse("jobs:joblog_detail", args=[b_job.pk])).content.decode()
    assert str(stores) not in page and stored.name not in page
    assert stored.name not in json.dumps(b_job.details)
    download = client.get(reverse("jobs:joblog_download", args=[b_job.pk]))
    assert download.status_code == 200 and CANARY.encode() in _body(download)
    assert stored.name not in download["Content-Disposition"]


def test_a_changed_file_is_not_served(client, tenant_b, b_events, stores, django_capture_on_commit_callbacks):
    b_job = _b_export_job(client, tenant_b, django_capture_on_commit_callbacks)
    path = _files_under(stores)[0]
    os.chmod(path, 0o600)
    path.write_text('{"records": ["planted"]}')
    client.force_login(User.objects.get(email="root@globex.example"))
    response = client.get(reverse("jobs:joblog_download", args=[b_job.pk]))
    assert response.status_code == 404


def test_export_job_rechecks_its_requester_when_it_runs(
    client, tenant_a, stores, django_capture_on_commit_callbacks, settings
):
    """Runs act as their tenant: a requester demoted before the job runs exports nothing."""
    events = registry.get("events")
    sample_record(events, tenant_a, "a1")
    user = login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"{events.export_url}?format=csv&limit=60000&preset=all")
    job = JobLog.objects.for_tenant(tenant_a).get(job_type="export")
    user.role = Role.AUDITOR
    user.save()
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.latest_status == "failed" and "may no longer export" in job.message
    assert _files_under(stores) == []


def test_retry_rebuilds_from_the_server_side_spec(
    client, tenant_a, tenant_b, b_events, stores, django_capture_on_commit_callbacks
):
    """A failed console export is retried with its own spec, whatever its public details were changed to."""
    events = registry.get("events")
    sample_record(events, tenant_a, "mine", email="mine@acme.example")
    login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"{events.export_url}?format=csv&limit=60000&preset=all")
    job = JobLog.objects.for_tenant(tenant_a).get(job_type="export")
    # the job failed; its public details are then tampered with (they are plain JSON in a log table)
    JobLog.objects.filter(pk=job.pk).update(
        latest_status="failed", details={"kind": "events", "params": {}, "file": "/tmp/evil", "columns": [["x", "="]]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:joblog_retry", args=[job.pk]))
    assert response.status_code == 302
    new = JobLog.objects.for_tenant(tenant_a).filter(job_type="export").exclude(pk=job.pk).get()
    assert new.latest_status == "success", new.stacktrace
    body = _body(client.get(reverse("jobs:joblog_download", args=[new.pk]))).decode()
    assert "mine@acme.example" in body and CANARY not in body
    assert body.splitlines()[0].lstrip("\ufeff").startswith("Event Type")
    assert not Path("/tmp/evil").exists()


def test_large_export_by_get_only_asks_for_confirmation(client, tenant_a, stores):
    """A cross-site link (a GET) cannot start a 1,000,000-row export job; the confirmation page POSTs."""
    events = registry.get("events")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.export_url, {"format": "json", "limit": "1000000", "preset": "all"})
    assert response.status_code == 200
    assert JobLog.objects.filter(job_type="export").count() == 0
    page = response.content.decode()
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page and "1,000,000" in page


def test_large_export_post_needs_the_csrf_token(tenant_a, stores):
    from django.test import Client

    events = registry.get("events")
    strict = Client(enforce_csrf_checks=True)
    login(strict, tenant_a, Role.TENANT_ADMIN)
    response = strict.post(f"{events.export_url}?format=json&limit=1000000")
    assert response.status_code == 403
    assert JobLog.objects.filter(job_type="export").count() == 0


def test_ingested_running_records_do_not_block_restores(client, tenant_a, stores):
    """An ingested "import, running" record must not stop a super admin from restoring (a cheap denial)."""
    from console.runs import restore_running

    _ingest_job(tenant_a, job_id="blocker", job_type="import", latest_status="running", details={"kind": "audit"})
    assert restore_running(tenant=tenant_a, kind=registry.get("audit")) is False


def test_trim_archive_is_downloadable_by_super_admins_from_the_trim_job(
    client, tenant_a, stores, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from console.tasks import trim_run_task
    from jobs.runner import job_create, job_enqueue

    audit = registry.get("audit")
    for i in range(3):
        sample_record(audit, tenant_a, f"old{i}", when=timezone.now() - dt.timedelta(days=500 + i))
    retain(tenant_a, audit=365)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(tenant=tenant_a, job_name="audit log trim", job_type="trim")
        job_enqueue(job, trim_run_task)
    job.refresh_from_db()
    assert job.latest_status == "success", job.stacktrace
    assert str(stores) not in job.message and ".json" not in job.message
    login(client, tenant_a, Role.SUPER_ADMIN)
    page = client.get(reverse("jobs:joblog_detail", args=[job.pk])).content.decode()
    assert reverse("jobs:joblog_download", args=[job.pk]) in page
    data = json.loads(_body(client.get(reverse("jobs:joblog_download", args=[job.pk]))))
    assert data["header"]["count"] == 3 and data["header"]["kind"] == "audit"
    client.logout()
    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(reverse("jobs:joblog_detail", args=[job.pk])).content.decode()
    assert reverse("jobs:joblog_download", args=[job.pk]) not in page, "no button that then answers 403"
    assert client.get(reverse("jobs:joblog_download", args=[job.pk])).status_code == 403


def test_every_run_of_authmon_is_marked_server_side_and_the_mark_is_not_in_the_api(tenant_a):
    from jobs.runner import job_create

    job = job_create(tenant=tenant_a, job_name="x", job_type="cleanup")
    assert JobRun.objects.for_job(job) is not None
    assert "runner" not in job.details
    schema = make_client(tenant_a, ["read"]).get("/api/v1/openapi.json").json()
    assert "JobRun" not in json.dumps(schema) and "console_run" not in json.dumps(schema)


def test_ingested_pending_records_do_not_block_alert_evaluations(tenant_a):
    """A forged "alert evaluation, pending" record dated in the future must not stop alerting (a quiet denial)."""
    from insights.alerts import EVALUATION_JOB_NAME, alerts_evaluation_queue

    _ingest_job(
        tenant_a,
        job_id="quiet",
        job_name=EVALUATION_JOB_NAME,
        job_type="email",
        latest_status="pending",
        created_at="2099-01-01T00:00:00Z",
        updated_at="2099-01-01T00:00:00Z",
    )
    assert alerts_evaluation_queue(tenant=tenant_a) is not None


def test_an_export_with_a_filter_it_cannot_read_exports_nothing(client, tenant_a, stores):
    """The list shows rows without an unreadable filter (and says so); an export refuses rather than hold more."""
    events = registry.get("events")
    sample_record(events, tenant_a, "x1")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.export_url, {"format": "csv", "ip_address": "not-an-ip"}, follow=True)
    assert response.status_code == 200 and not hasattr(response, "streaming_content")
    assert "Nothing exported" in response.content.decode()

"""Faults: the database connection dropping mid-export, a worker killed mid-restore.

Whatever happens, the job ends failed (never "running" forever), no partial file is offered for download and no
half-restore is left behind. The PostgreSQL tests do it for real: the export's connection is terminated by the
server, and the restore runs in a separate process that is killed with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from audit.chain import chain_verify
from audit.models import AuditLog
from authmon import exports, filestore, registry
from authmon.models import Role
from authmon.restore import archive_restore
from authmon.trim import tenant_trim
from jobs.models import JobLog
from jobs.runner import job_create, jobs_mark_stale, stale_after
from jobs.services import run_file_record
from tests import dbrole
from tests.authmon.test_log_views import login
from tests.samples import retain, sample_record

ROOT = Path(__file__).resolve().parents[2]
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def _export_job(client, capture) -> JobLog:
    with capture(execute=True):
        response = client.post(f"{registry.get('events').export_url}?format=json&limit=60000")
    assert response.status_code == 302
    return JobLog.objects.get(job_type="export")


def _restore_job(tenant, raw: bytes) -> JobLog:
    """A restore job as the console makes it (its upload kept in the tenant's store), not yet queued."""
    job = job_create(
        tenant=tenant,
        job_name="audit logs restore",
        job_type="import",
        details={"kind": "audit"},
        spec={"kind": "audit"},
    )
    written = filestore.file_store_bytes("upload", tenant.pk, "json", iter([raw]))
    run_file_record(run=job.console_run, written=written, kind="audit", purpose="upload", records=None)
    return job


def _assert_no_file_offered(client, job: JobLog, export_dir: Path) -> None:
    assert job.latest_status == "failed", job.message
    assert [p for p in export_dir.rglob("*") if p.is_file()] == [], "a failed export must leave no file, partial or not"
    assert client.get(reverse("jobs:joblog_download", args=[job.pk])).status_code == 404
    page = client.get(reverse("jobs:joblog_detail", args=[job.pk])).content.decode()
    assert reverse("jobs:joblog_download", args=[job.pk]) not in page


def _assert_failed_within_the_lease(job: JobLog, stopped_at: dt.datetime) -> None:
    """A run whose worker died at ``stopped_at`` ends failed by the watchdog within one lease (``stale_after()``) of
    its death: not while its last heartbeat still holds the lease, and no later than a lease after the death."""
    job.refresh_from_db()
    assert job.latest_status == "running", f"the run never recorded that it started: {job.latest_status}"
    last_heartbeat = job.updated_at
    assert jobs_mark_stale(now=last_heartbeat + stale_after() - dt.timedelta(seconds=1)) == 0
    assert jobs_mark_stale(now=stopped_at + stale_after() + dt.timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert job.latest_status == "failed" and "watchdog" in job.message, job.message


def test_connection_lost_mid_export(
    client, tenant_a, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AUTHMON_EXPORT_DIR = tmp_path
    events = registry.get("events")
    for n in range(5):
        sample_record(events, tenant_a, f"fault{n}")
    real_rows = exports._rows

    def dropping(queryset, limit):
        for n, row in enumerate(real_rows(queryset, limit)):
            if n == 2:
                raise OperationalError("server closed the connection unexpectedly")
            yield row

    monkeypatch.setattr(exports, "_rows", dropping)
    login(client, tenant_a, Role.TENANT_ADMIN)
    job = _export_job(client, django_capture_on_commit_callbacks)
    assert "OperationalError" in job.message and job.stacktrace
    _assert_no_file_offered(client, job, tmp_path)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_terminates_the_export_connection(client, tenant_a, settings, tmp_path, monkeypatch):
    """The server ends the export's connection while rows stream from its cursor."""
    import psycopg

    settings.AUTHMON_EXPORT_DIR = tmp_path
    monkeypatch.setattr(exports, "CHUNK", 5)
    events = registry.get("events")
    for n in range(40):
        sample_record(events, tenant_a, f"pgfault{n}")
    login(client, tenant_a, Role.TENANT_ADMIN)
    params = connection.get_connection_params()
    real_serialize = exports.serialize_record
    calls = {"n": 0}

    def killing(kind, obj):
        calls["n"] += 1
        if calls["n"] == 12:  # mid-stream: after two chunks of the server-side cursor
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            with psycopg.connect(
                **{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real_serialize(kind, obj)

    monkeypatch.setattr(exports, "serialize_record", killing)
    try:
        response = client.post(f"{events.export_url}?format=json&limit=60000")
        assert response.status_code == 302
        job = JobLog.objects.get(job_type="export")
        assert calls["n"] >= 12
        _assert_no_file_offered(client, job, tmp_path)
    finally:
        connection.close()  # the next test gets a fresh connection, not the one the server ended


@pytest.fixture
def trimmed_archive(tenant_a):
    """200 audit records exported, then trimmed: the archive can be restored into their positions."""
    kind = registry.get("audit")
    old = timezone.now() - dt.timedelta(days=400)
    for n in range(200):
        sample_record(kind, tenant_a, f"rst{n}", when=old + dt.timedelta(minutes=n))
    queryset = AuditLog.objects.for_tenant(tenant_a).order_by("-timestamp", "-pk")
    raw = "".join(exports.stream_json(kind, queryset, tenant_slug=tenant_a.slug, filters={}, limit=1000)).encode()
    retain(tenant_a, audit=365)
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 200
    return raw


def test_worker_stopped_mid_restore_leaves_nothing_half_done(
    tenant_a, trimmed_archive, monkeypatch, tmp_path, settings
):
    from authmon import restore
    from console.tasks import restore_run_task

    monkeypatch.setattr(restore, "BATCH", 50)
    real_bulk_create = AuditLog.objects.bulk_create
    batches = {"n": 0}

    def dying(objs, *args, **kwargs):
        batches["n"] += 1
        result = real_bulk_create(objs, *args, **kwargs)
        if batches["n"] == 2:
            raise SystemExit("worker stopped")  # what a worker shutdown looks like to the code it runs
        return result

    monkeypatch.setattr(AuditLog.objects, "bulk_create", dying)
    settings.AUTHMON_EXPORT_DIR = tmp_path
    job = _restore_job(tenant_a, trimmed_archive)
    with pytest.raises(SystemExit):
        restore_run_task.apply(args=[job.tenant_id, job.pk])
    stopped_at = timezone.now()
    assert batches["n"] == 2
    assert not AuditLog.objects.filter(tenant=tenant_a, comments__startswith="rst").exists(), "half a restore was kept"
    _assert_failed_within_the_lease(job, stopped_at)
    monkeypatch.undo()
    assert archive_restore(raw=trimmed_archive, tenant=tenant_a).created == 200
    assert chain_verify(tenant=tenant_a).ok


RESTORE_SCRIPT = """
import os, sys, time
import django
django.setup()
from authmon import restore
from console.tasks import restore_run_task
restore.BATCH = 20
real = restore.archive_restore
def slow(**kwargs):
    outer = kwargs.pop("progress")
    def progress(done, total):
        outer(done, total)
        print(f"batch {done}", flush=True)
        time.sleep(0.3)
    return real(progress=progress, **kwargs)
restore.archive_restore = slow
import console.tasks
console.tasks.archive_restore = slow
restore_run_task.apply(args=[int(sys.argv[1]), int(sys.argv[2])])
print("finished", flush=True)
"""


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_restore(tenant_a, trimmed_archive, tmp_path, settings):
    """A real process restoring the archive is killed with SIGKILL between batches: nothing of it remains."""
    settings.AUTHMON_EXPORT_DIR = tmp_path
    job = _restore_job(tenant_a, trimmed_archive)
    env = dict(os.environ)
    env["DATABASE_URL"] = dbrole.database_url()  # the worker connects as the app role when the suite runs as it
    env["SECRET_KEY"] = settings.SECRET_KEY  # the export seal key derives from it
    env["AUTHMON_EXPORT_DIR"] = str(tmp_path)  # where the upload is kept
    process = subprocess.Popen(
        [sys.executable, "-c", RESTORE_SCRIPT, str(job.tenant_id), str(job.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if line.startswith("batch 60"):
                break
            if not line:
                break
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    killed_at = timezone.now()
    assert any(s.startswith("batch 60") for s in seen), seen
    assert "finished\n" not in seen
    assert not AuditLog.objects.filter(tenant=tenant_a, comments__startswith="rst").exists(), "half a restore was kept"
    _assert_failed_within_the_lease(job, killed_at)  # never "pending" or "running" forever
    assert archive_restore(raw=trimmed_archive, tenant=tenant_a).created == 200
    report = chain_verify(tenant=tenant_a)
    assert report.ok and report.restored == 200
    assert json.loads(trimmed_archive)["header"]["count"] == 200

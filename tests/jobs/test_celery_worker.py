"""Jobs through a real Celery worker on Redis against PostgreSQL: success, failure, and a worker killed mid-run.

These need REDIS_URL and DATABASE_URL (PostgreSQL) because the worker is a separate process that must see the
test database; CI sets both. Each test uses its own queue so nothing else consumes its tasks.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from authmon import registry
from authmon.celery import app
from authmon.models import Role
from events.models import EventLog
from jobs.models import JobLog, RunFile
from jobs.runner import job_create, jobs_mark_stale
from tests.conftest import make_user

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis broker)"),
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="needs PostgreSQL (DATABASE_URL): the worker must see the test database",
    ),
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A real `celery worker` process consuming a private queue, connected to the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "AUTHMON_EXPORT_DIR": str(tmp_path),
        "AUTHMON_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "authmon",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    settings.AUTHMON_EXPORT_DIR = tmp_path
    try:
        yield proc
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def wait_for(job: JobLog, statuses: set[str], timeout: float = 90) -> JobLog:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.latest_status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.latest_status!r}; wanted {statuses}")


def export_job(tenant, user, *, limit: int) -> JobLog:
    from authmon.runs import export_job_start

    # on_commit fires at once: transactional_db runs in autocommit
    return export_job_start(
        kind=registry.get("events"),
        user=user,
        tenant=tenant,
        params=[("preset", ["all"])],
        fmt="json",
        limit=limit,
        columns=["email"],
        filters={"preset": "all"},
    )


def finished_files(tmp_path) -> list:
    return [p for p in tmp_path.rglob("tenant-*/*") if p.is_file() and not p.name.endswith(".part")]


def seed_events(tenant, n: int) -> None:
    now = timezone.now()
    rows = [
        EventLog(tenant=tenant, event_type="login", email=f"u{i}@example.com", created_on=now - dt.timedelta(seconds=i))
        for i in range(n)
    ]
    EventLog.objects.bulk_create(rows, batch_size=5000)


def test_export_job_runs_on_a_real_worker(worker, tenant_a, tmp_path):
    user = make_user(tenant_a, Role.TENANT_ADMIN)
    seed_events(tenant_a, 500)
    job = wait_for(export_job(tenant_a, user, limit=60_000), {"success", "failed"})
    assert job.latest_status == "success", job.stacktrace
    assert job.details["progress"]["done"] == 500
    stored = RunFile.objects.get(run__job_pk=job.pk)
    assert [p.name for p in finished_files(tmp_path)] == [stored.name]


def test_failing_job_records_the_stacktrace(worker, tenant_a):
    from authmon.tasks import restore_run_task
    from jobs.runner import job_enqueue

    job = job_create(
        tenant=tenant_a,
        job_name="audit logs restore",
        job_type="import",
        details={"kind": "audit"},
        spec={"kind": "audit"},
    )
    job_enqueue(job, restore_run_task)
    job = wait_for(job, {"success", "failed"})
    assert job.latest_status == "failed"
    assert "The uploaded archive is gone" in job.message
    assert "Traceback" in job.stacktrace


def test_worker_killed_mid_run_leaves_no_job_running_forever(worker, tenant_a, tmp_path):
    user = make_user(tenant_a, Role.TENANT_ADMIN)
    seed_events(tenant_a, 150_000)
    job = wait_for(export_job(tenant_a, user, limit=150_000), {"running", "success", "failed"})
    assert job.latest_status == "running", "the export finished before the worker could be killed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    job.refresh_from_db()
    assert job.latest_status == "running"
    assert finished_files(tmp_path) == [] and not RunFile.objects.exists(), "a partial file must never be offered"
    assert jobs_mark_stale(now=timezone.now() + dt.timedelta(hours=1)) == 1
    job.refresh_from_db()
    assert job.latest_status == "failed"
    assert "watchdog" in job.message

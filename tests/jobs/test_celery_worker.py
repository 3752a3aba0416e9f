"""Jobs through a real Celery worker on Redis against PostgreSQL: success, failure, a worker killed mid-run, and its
task redelivered by Redis to a second worker.

These need REDIS_URL and DATABASE_URL (PostgreSQL) because the worker is a separate process that must see the
test database; CI sets both. Each test uses its own queue so nothing else consumes its tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from authmon import registry
from authmon.celery import app
from authmon.models import Role
from events.models import EventLog
from jobs.models import JobLog, RunFile
from jobs.runner import job_create, jobs_mark_stale
from tests import dbrole
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


# Runs a worker whose Redis transport takes the given options (a JSON object in argv[1]); the rest of argv is the
# `celery worker` command line. Only the redelivery test needs it: a short visibility timeout makes Redis hand a dead
# worker's unacknowledged message to another worker after a second instead of an hour.
WORKER_WITH_TRANSPORT_OPTIONS = (
    "import json, sys\n"
    "from authmon.celery import app\n"
    "app.conf.broker_transport_options = json.loads(sys.argv[1])\n"
    "app.worker_main(sys.argv[2:])\n"
)


def start_worker(queue: str, tmp_path: Path, name: str = "worker", **transport_options: object) -> subprocess.Popen:
    """A real `celery worker` consuming ``queue``, connected to the test database; its log is tmp_path/name.log."""
    env = {
        **os.environ,
        "DATABASE_URL": dbrole.database_url(),  # as the app role when the suite runs as it (tests/dbrole.py)
        "DEBUG": "1",
        "AUTHMON_EXPORT_DIR": str(tmp_path),
        "AUTHMON_DATA_DIR": str(tmp_path),
    }
    argv = ["worker", "-Q", queue, "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    if transport_options:
        command = [sys.executable, "-c", WORKER_WITH_TRANSPORT_OPTIONS, json.dumps(transport_options), *argv]
    else:
        command = [sys.executable, "-m", "celery", "-A", "authmon", *argv]
    with (tmp_path / f"{name}.log").open("w") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def queue() -> str:
    """A private queue: nothing else consumes this test's tasks."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker(transactional_db, tmp_path, queue):
    """A real `celery worker` process consuming the test's queue; the test process sends its tasks there."""
    proc = start_worker(queue, tmp_path)
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    settings.AUTHMON_EXPORT_DIR = tmp_path
    try:
        yield proc
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        stop_worker(proc)


def wait_for(job: JobLog, statuses: set[str], timeout: float = 90) -> JobLog:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.latest_status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.latest_status!r}; wanted {statuses}")


def export_job(tenant, user, *, limit: int) -> JobLog:
    from console.runs import export_job_start

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
    from console.tasks import restore_run_task
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


def broker_holds(task_id: str, queue: str) -> bool:
    """Whether Redis still holds the task's message: waiting in the queue, or delivered and not yet acknowledged.

    kombu's Redis transport keeps a delivered message in the ``unacked`` hash until the worker acknowledges it
    (``acks_late``: after the task returns), and moves it back to the queue once it is older than the consuming
    worker's visibility timeout: that is how a dead worker's task is redelivered.
    """
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    delivered = [json.loads(raw)[0] for raw in client.hvals("unacked")]
    waiting = [json.loads(raw) for key in client.keys(f"{queue}*") for raw in client.lrange(key, 0, -1)]
    return any(message["headers"].get("id") == task_id for message in delivered + waiting)


def test_a_task_redelivered_after_its_worker_died_does_not_run_the_job_again(worker, queue, tenant_a, tmp_path):
    """Kill the worker mid-export; Redis redelivers the unacknowledged task to a second worker, which must not export
    again (the run was already started and its worker is gone): the job stays as the dead run left it until the
    watchdog marks it failed (console.tasks.job_task, jobs.runner.jobs_mark_stale)."""
    user = make_user(tenant_a, Role.TENANT_ADMIN)
    seed_events(tenant_a, 50_000)
    job = wait_for(export_job(tenant_a, user, limit=50_000), {"running", "success", "failed"})
    assert job.latest_status == "running", "the export finished before the worker could be killed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    job.refresh_from_db()
    first_run = job.details["started_at"]
    assert broker_holds(job.job_id, queue), "the dead worker's task waits in Redis to be delivered again"

    second = start_worker(queue, tmp_path, "second-worker", visibility_timeout=1, unacked_restore_interval=1)
    try:
        deadline = time.monotonic() + 60
        while broker_holds(job.job_id, queue) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not broker_holds(job.job_id, queue), "the second worker never took the redelivered task"
        log = (tmp_path / "second-worker.log").read_text()
        assert f"export_run_task[{job.job_id}] received" in log, log[-3000:]
        assert f"export_run_task[{job.job_id}] succeeded" in log, log[-3000:]  # taken, handled and acknowledged
    finally:
        stop_worker(second)

    job.refresh_from_db()
    assert job.latest_status == "running", f"the job was run again: {job.latest_status} {job.message!r}"
    assert job.details["started_at"] == first_run, "the job was started a second time"
    assert finished_files(tmp_path) == [] and not RunFile.objects.exists(), "a second export must not be offered"
    assert jobs_mark_stale(now=timezone.now() + dt.timedelta(hours=1)) == 1
    job.refresh_from_db()
    assert job.latest_status == "failed" and "watchdog" in job.message

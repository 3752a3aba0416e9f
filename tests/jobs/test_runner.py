"""The job runner records every outcome; the watchdog fails runs whose worker died; maintenance jobs work."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from authmon import registry
from console.maintenance import expired_access_mark
from console.tasks import maintenance_nightly_task
from jobs.models import JobLog, JobRun
from jobs.runner import job_create, job_for_task, job_run, jobs_mark_stale
from tests.samples import sample_record


def test_success_records_summary_and_duration(tenant_a):
    job = job_create(tenant=tenant_a, job_name="unit", job_type="sync")
    assert job.latest_status == "pending"
    job_run(job, lambda ctx: (ctx.progress(5, 10, force=True), "did it")[1])
    job.refresh_from_db()
    assert job.latest_status == "success"
    assert job.message == "did it"
    assert job.details["progress"] == {"done": 5, "total": 10}
    assert "duration_seconds" in job.details


def test_job_create_writes_a_pending_record_with_authmons_mark(tenant_a, tenant_admin):
    job = job_create(
        tenant=tenant_a,
        job_name="events export",
        job_type="export",
        details={"format": "csv"},
        spec={"limit": 5},
        requested_by=tenant_admin,
    )
    stored = JobLog.objects.get(pk=job.pk)
    assert (stored.tenant, stored.job_name, stored.job_type) == (tenant_a, "events export", "export")
    assert (stored.latest_status, stored.message, stored.details) == ("pending", "Queued", {"format": "csv"})
    assert len(stored.job_id) == 32 and int(stored.job_id, 16) >= 0  # a fresh random id, not one a client chose
    assert stored.created_at == stored.updated_at
    run = JobRun.objects.get(job_pk=job.pk)  # the mark no API can write: where a task reads its instructions
    assert (run.tenant, run.spec, run.requested_by) == (tenant_a, {"limit": 5}, tenant_admin)
    assert run.job_created_at == stored.created_at
    other = job_create(tenant=tenant_a, job_name="cleanup", job_type="cleanup", message="Waiting")
    assert other.job_id != stored.job_id
    assert (JobLog.objects.get(pk=other.pk).message, other.details) == ("Waiting", {})
    assert (JobRun.objects.get(job_pk=other.pk).spec, JobRun.objects.get(job_pk=other.pk).requested_by) == ({}, None)


def test_a_task_runs_only_its_own_tenants_pending_job_that_authmon_created(tenant_a, tenant_b):
    first = job_create(tenant=tenant_a, job_name="first", job_type="export")
    job = job_create(tenant=tenant_a, job_name="second", job_type="export")
    assert job_for_task(tenant_a.pk, job.pk) == job
    assert job_for_task(tenant_a.pk, first.pk) == first
    assert job_for_task(tenant_b.pk, job.pk) is None  # another tenant's task naming this job's number
    assert job_for_task(tenant_a.pk, JobLog.objects.order_by("-pk").first().pk + 1) is None
    ingested = sample_record(registry.get("jobs"), tenant_a, "ingested", latest_status="pending")
    assert job_for_task(tenant_a.pk, ingested.pk) is None  # pending, but not one authmon created: data, not work
    JobLog.objects.filter(pk=job.pk).update(latest_status="running")
    assert job_for_task(tenant_a.pk, job.pk) is None  # a redelivered task finds its job already started


def test_failure_records_message_and_stacktrace(tenant_a):
    def boom(ctx):
        raise RuntimeError("disk full")

    job = job_run(job_create(tenant=tenant_a, job_name="unit", job_type="sync"), boom)
    job.refresh_from_db()
    assert job.latest_status == "failed"
    assert job.message == "RuntimeError: disk full"
    assert "Traceback" in job.stacktrace and "boom" in job.stacktrace


def test_watchdog_fails_only_stale_authmon_runs(tenant_a):
    stale = job_create(tenant=tenant_a, job_name="stale", job_type="export")
    fresh = job_create(tenant=tenant_a, job_name="fresh", job_type="export")
    foreign = sample_record(registry.get("jobs"), tenant_a, "ingested", latest_status="running")
    old = timezone.now() - dt.timedelta(hours=2)
    JobLog.objects.filter(pk__in=[stale.pk, foreign.pk]).update(latest_status="running", updated_at=old)
    JobLog.objects.filter(pk=fresh.pk).update(latest_status="running")
    assert jobs_mark_stale() == 1
    assert JobLog.objects.get(pk=stale.pk).latest_status == "failed"
    assert "watchdog" in JobLog.objects.get(pk=stale.pk).message
    assert JobLog.objects.get(pk=fresh.pk).latest_status == "running"
    assert JobLog.objects.get(pk=foreign.pk).latest_status == "running"


def test_cleanup_expires_sessions_and_grants(tenant_a):
    sessions = registry.get("sessions")
    past = timezone.now() - dt.timedelta(minutes=1)
    gone = sample_record(sessions, tenant_a, "s", status="active", expires_at=past)
    live = sample_record(sessions, tenant_a, "s", status="active", expires_at=timezone.now() + dt.timedelta(hours=1))
    assert expired_access_mark(tenant=tenant_a) == (1, 0)
    gone.refresh_from_db()
    live.refresh_from_db()
    assert (gone.status, live.status) == ("expired", "active")


@pytest.mark.django_db(transaction=True)
def test_nightly_maintenance_writes_job_records(tenant_a):
    events = registry.get("events")
    old = sample_record(events, tenant_a, "old", when=timezone.now() - dt.timedelta(days=400))
    new = sample_record(events, tenant_a, "new")
    assert maintenance_nightly_task() == 2
    trim = JobLog.objects.get(job_name="audit log trim")
    assert trim.latest_status == "success", trim.stacktrace
    assert "1 events" in trim.message
    assert not events.model.objects.filter(pk=old.pk).exists()
    assert events.model.objects.filter(pk=new.pk).exists()
    assert JobLog.objects.get(job_type="cleanup").latest_status == "success"


def test_job_logs_flag_overdue_running_jobs(client, tenant_a):
    from authmon.models import Role
    from tests.authmon.test_log_views import login

    jobs = registry.get("jobs")
    now = timezone.now()
    sample_record(jobs, tenant_a, "stuck", latest_status="running", job_type="trim", when=now - dt.timedelta(hours=3))
    sample_record(jobs, tenant_a, "fine", latest_status="running", job_type="trim", when=now - dt.timedelta(minutes=5))
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(jobs.list_url).content.decode()
    assert body.count(">overdue</span>") == 1


def test_a_stuck_job_says_so_on_its_page_with_its_last_heartbeat_and_what_to_do(client, tenant_a, tenant_admin):
    from django.urls import reverse

    stuck = job_create(tenant=tenant_a, job_name="events export", job_type="export")
    long_ago = timezone.now() - dt.timedelta(hours=5)
    JobLog.objects.filter(pk=stuck.pk).update(latest_status="running", created_at=long_ago, updated_at=long_ago)
    fresh = job_create(tenant=tenant_a, job_name="events export", job_type="export")
    JobLog.objects.filter(pk=fresh.pk).update(latest_status="running")
    client.force_login(tenant_admin)
    page = client.get(reverse("jobs:joblog_detail", args=[stuck.pk])).content.decode()
    assert 'id="job-overdue"' in page and "Last sign of life" in page and "watchdog" in page
    assert 'id="job-overdue"' not in client.get(reverse("jobs:joblog_detail", args=[fresh.pk])).content.decode()


def test_only_the_runs_that_change_the_schema_go_to_the_owners_queue():
    """The maintenance worker connects as the owner (DESIGN section 4): it gets the DDL runs and nothing else."""
    from django.conf import settings

    from authmon.celery import app

    app.loader.import_default_modules()
    routed = {name for name, route in settings.CELERY_TASK_ROUTES.items() if route["queue"] == "maintenance"}
    assert routed == {"authmon.tasks.trim_run_task", "authmon.tasks.partitions_ensure_run_task"}
    assert routed <= set(app.tasks)  # names of real tasks, not stale strings
    queues = {
        name: app.amqp.router.route({}, name)["queue"].name for name in app.tasks if not name.startswith("celery.")
    }
    assert {name for name, queue in queues.items() if queue == "maintenance"} == routed

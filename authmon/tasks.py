"""Celery tasks of the shared machinery. Thin: load the job, call the service, let the runner record the outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from authmon import exports, maintenance, partitions, registry
from authmon.models import Tenant, User
from authmon.restore import archive_restore
from jobs.models import JobLog, JobStatus
from jobs.runner import JobContext, job_create, job_enqueue, job_run
from notifications.services import notification_send


def job_task(name: str) -> Callable[[Callable[..., str]], Any]:
    """Turn ``work(context, *args) -> summary`` into a Celery task that runs it as the job record ``job_pk``.

    A redelivered task (``acks_late`` after a worker died) finds its job no longer pending and does nothing; the
    watchdog has the final word on such runs.
    """

    def decorate(work: Callable[..., str]) -> Any:
        @shared_task(name=name, acks_late=True)
        def task(job_pk: int, *args: Any) -> str | None:
            job = JobLog.objects.filter(pk=job_pk).first()
            if job is None or job.latest_status != JobStatus.PENDING:
                return None
            return job_run(job, lambda context: work(context, *args)).latest_status

        task.__doc__ = work.__doc__
        return task

    return decorate


def _acting_user(job: JobLog) -> User:
    user = User.objects.get(pk=job.details["requested_by_id"])
    user._active_tenant = job.tenant  # a super admin's export runs in the tenant it was asked for
    return user


@job_task("authmon.tasks.export_run_task")
def export_run_task(context: JobContext) -> str:
    """Write a large export to a file the requester can download from the job's page."""
    from authmon.selectors import log_search

    job = context.job
    details = job.details
    kind = registry.get(details["kind"])
    user = _acting_user(job)
    params = QueryDict(mutable=True)
    for key, values in details["params"].items():
        params.setlist(key, values)
    search = log_search(kind, user, params)
    if not search.runnable:
        raise ValueError(f"The question can no longer be understood: {search.question_error.message}")
    queryset = search.queryset.order_by(search.sort, "-pk" if search.sort.startswith("-") else "pk")
    path = exports.export_dir() / details["file"]
    count = exports.export_to_file(
        kind=kind,
        queryset=queryset,
        tenant_slug=job.tenant.slug,
        filters=details["filters"],
        fmt=details["format"],
        limit=details["limit"],
        columns=[tuple(c) for c in details["columns"]],
        path=path,
        progress=lambda done, total: context.progress(done, total, f"Exported {done:,} of {total:,}"),
    )
    context.progress(count, count, force=True)
    link = reverse(registry.get("jobs").url_name("detail"), args=[job.pk])
    notification_send(  # recorded in the tenant's Notification Logs (sent, or failed with the SMTP error)
        tenant=job.tenant,
        to=[user.email],
        subject=f"Your {kind.label} export is ready",
        body=f"{count:,} records were exported as {details['format'].upper()}. Download it from {link} "
        f"within {settings.AUTHMON_EXPORT_TTL_HOURS} hours.",
        category="system",
        fail_silently=True,
    )
    return f"Exported {count:,} {kind.noun} as {details['format'].upper()}; ready to download."


@job_task("authmon.tasks.restore_run_task")
def restore_run_task(context: JobContext) -> str:
    """Verify and import an uploaded archive; the upload is removed afterwards, whatever the outcome."""
    job = context.job
    upload = Path(job.details["upload"])
    try:
        result = archive_restore(
            raw=upload.read_bytes(),
            tenant=job.tenant,
            kind_name=job.details["kind"],
            progress=lambda done, total: context.progress(done, total, f"Imported {done:,} of {total:,}"),
        )
    finally:
        upload.unlink(missing_ok=True)
    job.details = {**job.details, "created": result.created, "duplicates": result.duplicates}
    JobLog.objects.filter(pk=job.pk).update(details=job.details)
    return f"Restored {result.created:,} records; {result.duplicates:,} were already present."


@job_task("authmon.tasks.trim_run_task")
def trim_run_task(context: JobContext) -> str:
    """Apply the tenant's retention to every kind, archiving audit logs first."""
    report = maintenance.tenant_trim(
        tenant=context.job.tenant,
        progress=lambda done, total: context.progress(done, total, f"Archiving audit logs: {done:,} of {total:,}"),
    )
    context.job.details = {
        **context.job.details,
        "deleted": report.deleted,
        "archives": report.archives,
        "dropped_partitions": report.dropped,
        "dropped_rows_estimate": report.dropped_rows,
        "deferred_partitions": report.deferred,
        "kept_partitions": report.kept,
    }
    JobLog.objects.filter(pk=context.job.pk).update(details=context.job.details)
    return report.summary()


@job_task("authmon.tasks.cleanup_run_task")
def cleanup_run_task(context: JobContext) -> str:
    """Expire sessions and grants past ``expires_at``; remove old export files."""
    sessions, grants = maintenance.expired_access_mark(tenant=context.job.tenant)
    files = maintenance.export_files_prune()
    return maintenance.CleanupReport(sessions, grants, files).summary()


@job_task("authmon.tasks.partitions_ensure_run_task")
def partitions_ensure_run_task(context: JobContext) -> str:
    """Create the coming months' partitions (PostgreSQL) and move stray rows out of the default partitions."""
    report = partitions.partitions_ensure()
    context.job.details = {
        **context.job.details,
        "created": report.created,
        "moved_rows": report.moved_rows,
        "busy": report.busy,
    }
    JobLog.objects.filter(pk=context.job.pk).update(details=context.job.details)
    return report.summary()


def system_tenant() -> Tenant | None:
    """Where runs that concern no one tenant are recorded: ``AUTHMON_SYSTEM_TENANT`` (a slug), else the oldest."""
    slug = getattr(settings, "AUTHMON_SYSTEM_TENANT", "")
    tenants = Tenant.objects.filter(slug=slug) if slug else Tenant.objects.order_by("pk")
    return tenants.first()


@shared_task(name="authmon.tasks.partitions_ensure_task")
def partitions_ensure_task() -> int | None:
    """Queue one partition maintenance run (its own job record) when the database has partitioned tables."""
    tenant = system_tenant()
    if tenant is None or not partitions.partitioned_tables():
        return None
    job = job_create(tenant=tenant, job_name="partition maintenance", job_type="cleanup")
    job_enqueue(job, partitions_ensure_run_task)
    return job.pk


@shared_task(name="authmon.tasks.maintenance_nightly_task")
def maintenance_nightly_task() -> int:
    """Queue one trim and one cleanup run per tenant, each with its own job record."""
    queued = 0
    for tenant in Tenant.objects.all():
        for name, job_type, task in (
            ("audit log trim", "trim", trim_run_task),
            ("session and grant cleanup", "cleanup", cleanup_run_task),
        ):
            job = job_create(tenant=tenant, job_name=name, job_type=job_type)
            job_enqueue(job, task)
            queued += 1
    return queued

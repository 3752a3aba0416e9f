"""Celery tasks of the shared machinery. Thin: load the job, call the service, let the runner record the outcome."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from authmon import exports, filestore, partitions, registry, trim
from authmon.models import Tenant, User
from authmon.permissions import Perm, has_perm
from authmon.restore import archive_restore
from console import maintenance
from jobs.models import JobLog, JobRun, JobStatus
from jobs.runner import JobContext, job_create, job_enqueue, job_task, retry_tasks_set, system_tenant
from jobs.services import RETRYABLE_TYPES, run_file_record
from notifications.services import notification_send


class RunRefused(Exception):
    """A run's requester may no longer do what the run would do; the run fails with this message."""


def _run_of(job: JobLog) -> JobRun:
    run = job.console_run
    if run is None:  # job_task only runs marked jobs; kept as a second lock on the same door
        raise RunRefused("This job record was not created by authmon; it is not run.")
    return run


def _export_requester(job: JobLog, run: JobRun, kind: registry.LogKind) -> User:
    """The user the export runs as, checked now (not when it was queued): still active, of the job's tenant (or a
    super admin), and still allowed to export the kind. The run reads through the job's tenant only."""
    user = run.requested_by
    if user is None or not user.is_active:
        raise RunRefused("The user who asked for this export no longer exists or is inactive; nothing was exported.")
    if user.tenant_id != job.tenant_id and not user.is_super_admin:
        raise RunRefused("The user who asked for this export no longer belongs to this tenant; nothing was exported.")
    user._active_tenant = job.tenant  # a super admin's export runs in the tenant it was asked for, never another
    if not has_perm(user, Perm.EXPORT, kind.name):
        raise RunRefused(f"{user.email} may no longer export {kind.label}; nothing was exported.")
    return user


@job_task("authmon.tasks.export_run_task")
def export_run_task(context: JobContext) -> str:
    """Write a large export to a private file of the tenant that the requester can download from the job's page."""
    from authmon.selectors import log_search

    job = context.job
    run = _run_of(job)
    spec = run.spec
    kind = registry.get(spec["kind"])
    user = _export_requester(job, run, kind)
    params = QueryDict(mutable=True)
    for key, values in spec["params"].items():
        params.setlist(key, values)
    search = log_search(kind, user, params)
    if not search.runnable:
        raise ValueError(f"The question can no longer be understood: {search.question_error.message}")
    queryset = search.queryset.for_tenant(job.tenant)
    queryset = queryset.order_by(search.sort, "-pk" if search.sort.startswith("-") else "pk")
    fmt = spec["format"]
    with filestore.file_write("export", job.tenant_id, fmt) as (out, place):
        count = exports.export_write(
            out,
            kind=kind,
            queryset=queryset,
            tenant_slug=job.tenant.slug,
            filters=spec["filters"],
            fmt=fmt,
            limit=spec["limit"],
            columns=exports.export_columns_named(kind, spec.get("columns") or []),
            progress=lambda done, total: context.progress(done, total, f"Exported {done:,} of {total:,}"),
        )
    run_file_record(run=run, written=filestore.file_seal(place), kind=kind.name, purpose="export", records=count)
    context.progress(count, count, force=True)
    link = reverse(registry.get("jobs").url_name("detail"), args=[job.pk])
    notification_send(  # recorded in the tenant's Notification Logs (sent, or failed with the SMTP error)
        tenant=job.tenant,
        to=[user.email],
        subject=f"Your {kind.label} export is ready",
        body=f"{count:,} records were exported as {fmt.upper()}. Download it from {link} "
        f"within {settings.AUTHMON_EXPORT_TTL_HOURS} hours.",
        category="system",
        fail_silently=True,
    )
    return f"Exported {count:,} {kind.noun} as {fmt.upper()}; ready to download."


@job_task("authmon.tasks.restore_run_task")
def restore_run_task(context: JobContext) -> str:
    """Verify and import an uploaded archive; the upload is removed afterwards, whatever the outcome."""
    job = context.job
    run = _run_of(job)
    upload = run.files.filter(purpose="upload", tenant_id=job.tenant_id).first()
    if upload is None:
        raise RunRefused("The uploaded archive is gone; upload it again.")
    place = filestore.StoredPath(upload.purpose, upload.tenant_id, upload.name)
    try:
        with filestore.file_open_verified(place, sha256=upload.sha256, size=upload.size) as handle:
            raw = handle.read()
        result = archive_restore(
            raw=raw,
            tenant=job.tenant,
            kind_name=run.spec["kind"],
            progress=lambda done, total: context.progress(done, total, f"Imported {done:,} of {total:,}"),
        )
    finally:
        filestore.file_remove(place)
        upload.delete()
    job.details = {**job.details, "created": result.created, "duplicates": result.duplicates}
    JobLog.objects.filter(pk=job.pk).update(details=job.details)
    return f"Restored {result.created:,} records; {result.duplicates:,} were already present."


@job_task("authmon.tasks.trim_run_task")
def trim_run_task(context: JobContext) -> str:
    """Apply the tenant's retention to every kind, each as its trim policy says (audit logs are archived first).

    The archives are recorded as files of this run, downloadable by super admins from its page. Dropping a month
    partition archives every tenant with records in it: another tenant's archive gets its own job record (type
    archive) in that tenant, so it is found, and downloaded, there.
    """
    job = context.job
    run = _run_of(job)
    report = trim.tenant_trim(
        tenant=job.tenant,
        progress=lambda done, total: context.progress(done, total, f"Archiving: {done:,} of {total:,} records"),
    )
    for archive in report.archives:
        if archive.tenant_id == job.tenant_id:
            run_file_record(
                run=run, written=archive.written, kind=archive.kind, purpose="archive", records=archive.records
            )
        else:
            _archive_job_record(archive, trim_job=job)
    context.job.details = {
        **context.job.details,
        "deleted": report.deleted,
        "archived_records": sum(a.records for a in report.archives if a.tenant_id == job.tenant_id),
        "dropped_partitions": report.dropped,
        "dropped_rows_estimate": report.dropped_rows,
        "deferred_partitions": report.deferred,
        "kept_partitions": report.kept,
    }
    JobLog.objects.filter(pk=context.job.pk).update(details=context.job.details)
    return report.summary()


def _archive_job_record(archive: trim.ArchiveWritten, *, trim_job: JobLog) -> JobLog:
    """A finished archive run ("audit log archive") in the archive's own tenant, holding the file a shared trim
    wrote."""
    tenant = Tenant.objects.get(pk=archive.tenant_id)
    kind = registry.get(archive.kind)
    job = job_create(
        tenant=tenant,
        job_name=f"{kind.singular.lower()} archive",
        job_type="archive",
        details={"archived_records": archive.records, "reason": "a month partition past every retention was dropped"},
    )
    run_file_record(
        run=job.console_run, written=archive.written, kind=kind.name, purpose="archive", records=archive.records
    )
    summary = f"Archived {archive.records:,} {kind.noun} before a shared month partition was dropped."
    JobLog.objects.filter(pk=job.pk).update(
        latest_status=JobStatus.SUCCESS, message=summary, updated_at=trim_job.updated_at
    )
    return job


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


# Runs a tenant admin may start again from a failed one's page, by job type (see jobs.views.retry_view).
RETRYABLE_TASKS = {"export": export_run_task, "trim": trim_run_task, "cleanup": cleanup_run_task}
assert set(RETRYABLE_TASKS) == RETRYABLE_TYPES, "jobs.services.RETRYABLE_TYPES names the same runs"
retry_tasks_set(RETRYABLE_TASKS)

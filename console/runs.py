"""Starting authmon's own runs from the console (large exports, archive restores) and auditing every export.

Views parse the request and call these; each writes the job record with its server-side :class:`~jobs.models.JobRun`
(the parameters and the requester live there, never in the record's ``details``), audits the action in the tenant,
and queues the task once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from audit.services import audit_record
from authmon import filestore
from authmon.models import Tenant, User
from authmon.registry import LogKind
from console.tasks import export_run_task, restore_run_task
from jobs.models import JobLog
from jobs.runner import console_runs, job_create, job_enqueue
from jobs.services import run_file_record

EXPORT_PARAMS_SKIPPED = ("format", "limit", "cursor", "refresh")


def export_record(*, kind: LogKind, actor: str, tenant: Tenant, fmt: str, limit: int, filters: dict[str, Any]) -> None:
    """The audit record of an export, downloaded at once or run as a job (DESIGN section 4: exports are audited)."""
    audit_record(
        tenant=tenant,
        actor=actor,
        action=f"export {kind.model.__name__}",
        target=kind.label,
        new={"format": fmt, "limit": limit, "filters": filters},
        comments=f"Exported up to {limit:,} {kind.noun} as {fmt.upper()}",
    )


def export_job_start(
    *,
    kind: LogKind,
    user: User,
    tenant: Tenant,
    params: Iterable[tuple[str, list[str]]],
    fmt: str,
    limit: int,
    columns: list[str],
    filters: dict[str, Any],
) -> JobLog:
    """Queue an export of what the page's ``params`` select, run later as ``user`` in ``tenant`` (re-checked then).

    ``columns`` are the names of the columns the user shows; the CSV header cells come from the kind's table.
    """
    job = job_create(
        tenant=tenant,
        job_name=f"{kind.label.lower()} export",
        job_type="export",
        details={"kind": kind.name, "format": fmt, "limit": limit, "filters": filters, "requested_by": user.email},
        spec={
            "kind": kind.name,
            "format": fmt,
            "limit": limit,
            "filters": filters,
            "params": {k: v for k, v in params if k not in EXPORT_PARAMS_SKIPPED},
            "columns": list(columns),
        },
        requested_by=user,
    )
    job_enqueue(job, export_run_task)
    return job


def restore_running(*, tenant: Tenant, kind: LogKind) -> bool:
    """Whether a restore of ``kind`` that authmon started is pending or running for the tenant.

    Only authmon's own runs count: an ingested job record saying "import, running" must not block restores.
    """
    return (
        JobLog.objects.for_tenant(tenant)
        .filter(job_type="import", latest_status__in=["pending", "running"], pk__in=console_runs())
        .filter(details__kind=kind.name)
        .exists()
    )


class RestoreBusy(Exception):
    """Another restore of the kind is pending or running for the tenant."""


def restore_start(
    *, kind: LogKind, user: User, tenant: Tenant, file_name: str, size: int, chunks: Iterable[bytes]
) -> JobLog:
    """Keep a checked upload in the tenant's private store and queue its restore as a job; audited.

    One restore at a time per tenant and kind: the check and the new job are made under a lock on the tenant's row,
    so two uploads at the same moment cannot both start (``RestoreBusy`` for the second).
    """
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if restore_running(tenant=tenant, kind=kind):
            raise RestoreBusy("A restore is already running for this tenant; wait for it to finish.")
        return _restore_job(kind=kind, user=user, tenant=tenant, file_name=file_name, size=size, chunks=chunks)


def _restore_job(
    *, kind: LogKind, user: User, tenant: Tenant, file_name: str, size: int, chunks: Iterable[bytes]
) -> JobLog:
    job = job_create(
        tenant=tenant,
        job_name=f"{kind.label.lower()} restore",
        job_type="import",
        details={"kind": kind.name, "file_name": file_name[:300], "requested_by": user.email},
        spec={"kind": kind.name},
        requested_by=user,
    )
    written = filestore.file_store_bytes("upload", tenant.pk, "json", iter(chunks))
    run_file_record(run=job.console_run, written=written, kind=kind.name, purpose="upload", records=None)
    audit_record(
        tenant=tenant,
        actor=user.email,
        action=f"restore {kind.model.__name__}",
        target=file_name[:300],
        new={"file": file_name[:300], "bytes": size, "job_id": job.job_id},
        comments=f"Restore of {file_name[:300]} started",
    )
    job_enqueue(job, restore_run_task)
    return job

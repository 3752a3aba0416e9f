"""Celery tasks of the audit app: the hourly checkpoints of every tenant's audit chain (:mod:`audit.checkpoints`)."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from django.utils import timezone

from audit.checkpoints import EMPTY, REFUSED, UNCHANGED, WRITTEN, CheckpointResult, checkpoint_orphans, checkpoint_write
from authmon.models import Tenant
from authmon.tenancy import tenant_scope
from jobs.models import JobLog, JobStatus
from jobs.runner import JobContext, job_create, job_enqueue, job_task, system_tenant

JOB_NAME = "audit chain checkpoints"
TENANT_JOB_NAME = "audit chain checkpoint"  # a refusal, recorded in the tenant concerned


class CheckpointsRefused(Exception):
    """Some chains were not checkpointed because they lost what their last checkpoint vouched for."""


def _tenants(count: int) -> str:
    return f"{count:,} tenant{'s' if count != 1 else ''}"


def _refusal_record(tenant: Tenant, result: CheckpointResult) -> JobLog:
    """A failed run in the refused tenant's own Job Logs, naming the problem (the hourly run's record, kept in the
    system tenant, names no other tenant)."""
    job = job_create(tenant=tenant, job_name=TENANT_JOB_NAME, job_type="archive", details={"outcome": REFUSED})
    message = (
        f"No checkpoint was written: {result.problem} Run manage.py verify_audit_chain --tenant {tenant.slug}; if the "
        f"loss is known (a database restored from a backup), accept it with manage.py audit_checkpoint --tenant "
        f"{tenant.slug} --accept REASON."
    )
    JobLog.objects.filter(pk=job.pk).update(
        latest_status=JobStatus.FAILED, message=message[:2000], updated_at=timezone.now()
    )
    return job


@job_task("audit.tasks.checkpoints_run_task")
def checkpoints_run_task(context: JobContext) -> str:
    """Checkpoint every tenant's audit chain that moved; fail, and tell each tenant concerned, for chains that went
    back behind their last checkpoint or tenants that are gone."""
    tenants = list(Tenant.objects.order_by("pk"))
    outcomes: Counter[str] = Counter()
    for done, tenant in enumerate(tenants, 1):
        with tenant_scope(tenant.pk):
            result = checkpoint_write(tenant, actor="authmon")
            outcomes[result.outcome] += 1
            if result.outcome == REFUSED:
                _refusal_record(tenant, result)
        context.progress(done, len(tenants), f"Checked {done:,} of {len(tenants):,} tenants")
    gone = len(checkpoint_orphans({t.pk for t in tenants}))
    context.job.details = {
        **context.job.details,
        "written": outcomes[WRITTEN],
        "unchanged": outcomes[UNCHANGED],
        "without_records": outcomes[EMPTY],
        "refused": outcomes[REFUSED],
        "tenants_gone": gone,
    }
    JobLog.objects.filter(pk=context.job.pk).update(details=context.job.details)
    summary = (
        f"Checkpoints written for {_tenants(outcomes[WRITTEN])}; {_tenants(outcomes[UNCHANGED])} unchanged, "
        f"{_tenants(outcomes[EMPTY])} without audit records."
    )
    problems = []
    if outcomes[REFUSED]:
        problems.append(
            f"Refused for {_tenants(outcomes[REFUSED])} whose audit chain lost what its last checkpoint vouched for; "
            "each one's own Job Logs say what."
        )
    if gone:
        problems.append(f"{_tenants(gone)} with checkpoints no longer exist: erased with their audit logs.")
    if problems:
        raise CheckpointsRefused(" ".join([summary, *problems, "Run manage.py verify_audit_chain."]))
    return summary


@shared_task(name="audit.tasks.checkpoints_write_all_task")
def checkpoints_write_all_task() -> int | None:
    """Queue one checkpoint run (hourly, Celery beat) with its own job record in the system tenant."""
    tenant = system_tenant()
    if tenant is None:
        return None
    job = job_create(tenant=tenant, job_name=JOB_NAME, job_type="archive")
    job_enqueue(job, checkpoints_run_task)
    return job.pk

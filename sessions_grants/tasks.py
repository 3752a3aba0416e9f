"""Celery tasks of sessions and grants. Thin: load the job, run the service as the job, settle the outcome."""

from __future__ import annotations

from celery import shared_task

from authmon.tenancy import tenant_scope
from jobs.runner import job_for_task, job_run
from sessions_grants.webhooks import revocations_deliver, revocations_delivery_settle


@shared_task(name="sessions_grants.tasks.revocations_deliver_task", acks_late=True)
def revocations_deliver_task(tenant_id: int, job_pk: int) -> str | None:
    """One attempt to push a batch of revocations to the tenant's webhook; queues the next attempt if it failed."""
    with tenant_scope(tenant_id):
        job = job_for_task(tenant_id, job_pk)  # None: redelivered after its run, or not authmon's own record
        if job is None:
            return None
        job = job_run(job, revocations_deliver)
        revocations_delivery_settle(job=job)
        return job.latest_status

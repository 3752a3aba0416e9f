"""Celery tasks of sessions and grants. Thin: load the job, run the service as the job, settle the outcome."""

from __future__ import annotations

from celery import shared_task

from jobs.models import JobLog, JobStatus
from jobs.runner import job_run
from sessions_grants.webhooks import revocations_deliver, revocations_delivery_settle


@shared_task(name="sessions_grants.tasks.revocations_deliver_task", acks_late=True)
def revocations_deliver_task(job_pk: int) -> str | None:
    """One attempt to push a batch of revocations to the tenant's webhook; queues the next attempt if it failed."""
    job = JobLog.objects.filter(pk=job_pk).first()
    if job is None or job.latest_status != JobStatus.PENDING:
        return None  # a redelivered message whose run already happened
    if job.console_run is None:
        return None  # an ingested job record is never run, whatever its details say (as authmon.tasks.job_task)
    job = job_run(job, revocations_deliver)
    revocations_delivery_settle(job=job)
    return job.latest_status

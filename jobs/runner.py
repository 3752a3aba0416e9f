"""The job runner: every background run of authmon writes and keeps its own job record.

A run is ``pending`` when queued, ``running`` with progress while it works (each progress call is also a heartbeat),
then ``success`` with a summary message or ``failed`` with the message and the full stack trace. A run whose worker
died stops sending heartbeats, and :func:`jobs_mark_stale` marks it failed, so nothing stays "running" forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authmon.models import Tenant, User
from authmon.tenancy import tenant_scope
from jobs.models import JobLog, JobRun, JobStatus

logger = logging.getLogger(__name__)


class JobContext:
    """Handed to the function a job runs: report progress, read the job's details."""

    HEARTBEAT_SECONDS = 1.0

    def __init__(self, job: JobLog) -> None:
        self.job = job
        self._last_write = 0.0

    @property
    def details(self) -> dict[str, Any]:
        return self.job.details

    def progress(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        """Record progress (throttled to about one write a second; ``force`` writes now)."""
        now = time.monotonic()
        if not force and now - self._last_write < self.HEARTBEAT_SECONDS:
            return
        self._last_write = now
        self.job.details = {**self.job.details, "progress": {"done": done, "total": total}}
        if message:
            self.job.message = message
        self.job.updated_at = timezone.now()
        JobLog.objects.filter(pk=self.job.pk).update(
            details=self.job.details, message=self.job.message, updated_at=self.job.updated_at
        )


def job_create(
    *,
    tenant: Tenant,
    job_name: str,
    job_type: str,
    details: dict[str, Any] | None = None,
    message: str = "Queued",
    spec: dict[str, Any] | None = None,
    requested_by: User | None = None,
) -> JobLog:
    """Write the pending record of a run that is about to be queued, with authmon's mark on it.

    ``details`` is what the job page shows (it is the record's public JSON, like an ingested job's). ``spec`` holds
    the run's parameters and ``requested_by`` the console user who asked for it: both live in :class:`JobRun`, which
    no API can write, and are the only source a task or a retry reads its instructions from.
    """
    now = timezone.now()
    with transaction.atomic(), tenant_scope(tenant.pk):
        job = JobLog.objects.create(
            tenant=tenant,
            job_id=uuid.uuid4().hex,
            job_name=job_name,
            job_type=job_type,
            latest_status=JobStatus.PENDING,
            message=message,
            created_at=now,
            updated_at=now,
            details=dict(details or {}),
        )
        JobRun.objects.create(
            tenant=tenant, job_pk=job.pk, job_created_at=now, spec=dict(spec or {}), requested_by=requested_by
        )
    return job


def console_runs() -> Any:
    """The primary keys of the job records authmon itself runs (a subquery: ``JobLog.objects.filter(pk__in=...)``)."""
    return JobRun.objects.values("job_pk")


def job_run(job: JobLog, work: Callable[[JobContext], str]) -> JobLog:
    """Run ``work`` as this job: running, then success with its summary or failed with the stack trace."""
    job.latest_status = JobStatus.RUNNING
    job.updated_at = timezone.now()
    job.message = "Running"
    started = time.monotonic()
    job.details = {**job.details, "started_at": job.updated_at.isoformat()}
    job.save(update_fields=["latest_status", "updated_at", "message", "details"])
    context = JobContext(job)
    try:
        summary = work(context)
    except Exception as exc:  # a job records every failure instead of losing it
        logger.exception("Job %s (%s) failed", job.job_name, job.job_id)
        job.refresh_from_db()
        job.latest_status = JobStatus.FAILED
        job.message = f"{type(exc).__name__}: {exc}"[:2000]
        job.stacktrace = traceback.format_exc()
    else:
        job.refresh_from_db()
        job.latest_status = JobStatus.SUCCESS
        job.message = summary
    job.updated_at = timezone.now()
    job.details = {**job.details, "duration_seconds": round(time.monotonic() - started, 3)}
    job.save(update_fields=["latest_status", "message", "stacktrace", "updated_at", "details"])
    return job


def job_enqueue(job: JobLog, task: Any, *args: Any) -> None:
    """Queue ``task`` for ``job`` once the current transaction commits (in-process when no broker is set).

    The task's first two arguments are the job's tenant and primary key: a worker sets that tenant
    (:func:`job_for_task`) before it can see the job at all.
    """
    transaction.on_commit(lambda: task.apply_async(args=[job.tenant_id, job.pk, *args], task_id=job.job_id))


def job_for_task(tenant_id: int, job_pk: int) -> JobLog | None:
    """The pending job record a task was queued for, when authmon created it; None for a redelivered message.

    Call inside ``tenant_scope(tenant_id)``: the database shows the job only to its own tenant. A redelivered task
    (``acks_late`` after a worker died) finds its job no longer pending and does nothing; the watchdog has the final
    word on such runs. A job record authmon did not create (an ingested one, without a :class:`JobRun`) is never run,
    whatever its details say.
    """
    job = JobLog.objects.filter(tenant_id=tenant_id, pk=job_pk).first()
    if job is None or job.latest_status != JobStatus.PENDING or job.console_run is None:
        return None
    return job


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "AUTHMON_JOB_STALE_SECONDS", 15 * 60))


def jobs_mark_stale(*, now: dt.datetime | None = None) -> int:
    """Mark failed every run that says "running" but has sent no heartbeat for ``stale_after()``."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    count = 0
    for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_scope(tenant_id):
            stale = JobLog.objects.filter(
                tenant_id=tenant_id, latest_status=JobStatus.RUNNING, updated_at__lt=cutoff, pk__in=console_runs()
            )
            for job in stale:
                job.latest_status = JobStatus.FAILED
                job.message = (
                    f"Marked failed by the watchdog: no heartbeat since {job.updated_at.isoformat()} "
                    "(the worker probably died or was restarted)."
                )
                job.updated_at = now
                job.save(update_fields=["latest_status", "message", "updated_at"])
                count += 1
    return count


def job_task(name: str) -> Callable[[Callable[..., str]], Any]:
    """Turn ``work(context, *args) -> summary`` into a Celery task that runs it as the job record ``job_pk``.

    The run sees only the rows of the job's tenant (:func:`authmon.tenancy.tenant_scope`, the one place jobs set
    it). A redelivered task (``acks_late`` after a worker died) finds its job no longer pending and does nothing;
    the watchdog has the final word on such runs. Only job records authmon created (with a :class:`JobRun`) run.
    """

    def decorate(work: Callable[..., str]) -> Any:
        @shared_task(name=name, acks_late=True)
        def task(tenant_id: int, job_pk: int, *args: Any) -> str | None:
            with tenant_scope(tenant_id):
                job = job_for_task(tenant_id, job_pk)
                if job is None:
                    return None
                return job_run(job, lambda context: work(context, *args)).latest_status

        task.__doc__ = work.__doc__
        return task

    return decorate


def system_tenant() -> Tenant | None:
    """Where runs that concern no one tenant are recorded: ``AUTHMON_SYSTEM_TENANT`` (a slug), else the oldest."""
    slug = getattr(settings, "AUTHMON_SYSTEM_TENANT", "")
    tenants = Tenant.objects.filter(slug=slug) if slug else Tenant.objects.order_by("pk")
    return tenants.first()


_RETRY_TASKS: dict[str, Any] = {}


def retry_tasks_set(tasks: dict[str, Any]) -> None:
    """The tasks that start a failed run of each retryable job type again (set by the site's task wiring)."""
    _RETRY_TASKS.update(tasks)


def retry_task(job_type: str) -> Any | None:
    """The task that runs ``job_type`` again, or None when such runs cannot be retried."""
    return _RETRY_TASKS.get(job_type)

"""Background job logs: one record per job run."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from authmon.models import TenantOwned


class JobType(models.TextChoices):
    TRIM = "trim", "Trim"
    EMAIL = "email", "Email"
    IMPORT = "import", "Import"
    EXPORT = "export", "Export"
    ARCHIVE = "archive", "Archive"
    SYNC = "sync", "Sync"
    CLEANUP = "cleanup", "Cleanup"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"


class JobLog(TenantOwned):
    """One run of a background job: its state, progress message and, on failure, the stack trace."""

    job_id = models.CharField(max_length=100)
    job_name = models.CharField(max_length=200)
    job_type = models.CharField(max_length=16, choices=JobType.choices)
    message = models.TextField(blank=True)
    latest_status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    stacktrace = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="jobs_tenant_time"),
            models.Index(fields=["tenant", "job_name", "-created_at"], name="jobs_tenant_name"),
            models.Index(fields=["tenant", "latest_status", "-created_at"], name="jobs_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} ({self.latest_status})"


# How long a run of each type may take before the Job Logs page flags it as overdue (minutes).
EXPECTED_MINUTES = {"trim": 60, "email": 30, "import": 60, "export": 60, "archive": 120, "sync": 60, "cleanup": 30}


def is_overdue(job: JobLog, *, now: dt.datetime | None = None) -> bool:
    """Whether a running job has been running longer than its type's expected duration."""
    expected = getattr(settings, "AUTHMON_JOB_EXPECTED_MINUTES", EXPECTED_MINUTES).get(job.job_type, 60)
    return job.latest_status == JobStatus.RUNNING and (now or timezone.now()) - job.created_at > dt.timedelta(
        minutes=expected
    )

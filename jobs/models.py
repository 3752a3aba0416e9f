"""Background job logs: one record per job run."""

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

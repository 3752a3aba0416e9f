"""Background job logs: one record per job run."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

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

    @cached_property
    def console_run(self) -> JobRun | None:
        """authmon's mark on this record when authmon itself runs it (see :class:`JobRun`); None when ingested."""
        return JobRun.objects.for_job(self)


# How long a run of each type may take before the Job Logs page flags it as overdue (minutes).
EXPECTED_MINUTES = {"trim": 60, "email": 30, "import": 60, "export": 60, "archive": 120, "sync": 60, "cleanup": 30}


def expected_minutes(job: JobLog) -> int:
    """How long a run of this job's type should take at most (minutes)."""
    return int(getattr(settings, "AUTHMON_JOB_EXPECTED_MINUTES", EXPECTED_MINUTES).get(job.job_type, 60))


def is_overdue(job: JobLog, *, now: dt.datetime | None = None) -> bool:
    """Whether a running job has been running longer than its type's expected duration."""
    return job.latest_status == JobStatus.RUNNING and (now or timezone.now()) - job.created_at > dt.timedelta(
        minutes=expected_minutes(job)
    )


class JobRunQuerySet(models.QuerySet["JobRun"]):
    def for_job(self, job: JobLog) -> JobRun | None:
        """The mark of ``job`` if authmon itself created it; None for a record that came in through ingest."""
        return self.filter(job_pk=job.pk, tenant_id=job.tenant_id).first()


class JobRun(models.Model):
    """authmon's own mark on a job record it runs, with the run's parameters: the provenance of a run.

    Job records are an ingestible kind and their ``details`` are free JSON sent by the identity service, so nothing
    in a job record can say "authmon made me" or carry an instruction. This table is written only by
    :func:`jobs.runner.job_create`; no API schema or form reads or writes it. A run can be retried or downloaded only
    when it has a row here, and its parameters (requester, record kind, filters, format) are read only from here.
    It points at the job by primary key (the jobs table is partitioned by month, so no foreign key can), and the key
    is assigned by the database, so an ingested record can never claim another's mark.
    """

    tenant = models.ForeignKey("authmon.Tenant", on_delete=models.PROTECT, related_name="+")
    job_pk = models.BigIntegerField()
    job_created_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spec = models.JSONField(default=dict, blank=True)  # the run's parameters, as the console or a schedule set them
    created_at = models.DateTimeField(default=timezone.now)

    objects = JobRunQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "job_pk"], name="jobs_jobrun_tenant_job_uniq")]

    def __str__(self) -> str:
        return f"run of job {self.job_pk}"


class FilePurpose(models.TextChoices):
    EXPORT = "export", "Export"
    ARCHIVE = "archive", "Archive"
    UPLOAD = "upload", "Upload"


class RunFile(models.Model):
    """A file a run wrote (an export, a retention archive) or received (a restore upload), as stored.

    ``name`` is the file's unguessable name inside its tenant's directory of the store for ``purpose``
    (:mod:`authmon.filestore`); ``sha256`` and ``size`` are taken when it was written, and a download serves the
    file only while it still matches them. ``kind`` is the record kind it holds: who may download it.
    """

    tenant = models.ForeignKey("authmon.Tenant", on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="files")
    purpose = models.CharField(max_length=16, choices=FilePurpose.choices)
    kind = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    fmt = models.CharField(max_length=8)  # json or csv: the download's extension
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    records = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="jobs_runfile_tenant_name_uniq")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.name}"

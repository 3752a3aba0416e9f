"""Services of authmon's own runs: the files a run wrote, and who may download them."""

from __future__ import annotations

from typing import Any

from authmon.filestore import WrittenFile
from authmon.permissions import Perm, has_perm
from jobs.models import JobLog, JobRun, RunFile

RETRYABLE_TYPES = frozenset({"export", "trim", "cleanup"})  # runs of authmon that can simply run again


def run_file_record(*, run: JobRun, written: WrittenFile, kind: str, purpose: str, records: int | None) -> RunFile:
    """Record a file a run has just written or received: its place, digest and size, and the record kind it holds."""
    return RunFile.objects.create(
        tenant_id=written.place.tenant_id,
        run=run,
        purpose=purpose,
        kind=kind,
        name=written.place.name,
        fmt=written.place.name.rsplit(".", 1)[1],
        sha256=written.sha256,
        size=written.size,
        records=records,
    )


def run_files_for(job: JobLog, *, purposes: tuple[str, ...] = ("export", "archive")) -> list[RunFile]:
    """The downloadable files of one of authmon's runs, in the job's tenant; none for an ingested job record."""
    run = job.console_run
    if run is None:
        return []
    return list(run.files.filter(tenant_id=job.tenant_id, purpose__in=purposes))


def run_files_downloadable(job: JobLog, user: Any) -> list[RunFile]:
    """The files of a finished run that ``user`` may download (the job page offers exactly these)."""
    if job.latest_status != "success":
        return []
    return [f for f in run_files_for(job) if has_perm(user, Perm.EXPORT, f.kind)]


def run_file_download_name(job: JobLog, stored: RunFile) -> str:
    """The name a download is saved under: tenant, kind, purpose and time; never the name it is stored under."""
    stamp = stored.created_at.strftime("%Y%m%d-%H%M%S")
    return f"authmon-{job.tenant.slug}-{stored.kind}-{stored.purpose}-{stamp}-{stored.pk}.{stored.fmt}"

"""Job pages beyond the generic ones: live progress, the export download, retry of a failed run."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from authmon import exports
from authmon.permissions import Perm, has_perm
from authmon.registry import LogKind
from jobs.models import JobLog, JobStatus
from jobs.runner import job_create, job_enqueue


def _job(request: HttpRequest, kind: LogKind, pk: int) -> JobLog:
    if not has_perm(request.user, Perm.VIEW, kind.name):
        raise PermissionDenied
    job = kind.model.objects.for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def progress_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    """The progress panel alone, polled by htmx while the job runs."""
    return render(request, "jobs/_progress.html", {"record": _job(request, kind, pk), "kind": kind})


def download_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    """An export job's file, only for users allowed to export that kind."""
    job = _job(request, kind, pk)
    exported = job.details.get("kind")
    if job.job_type != "export" or not job.details.get("file") or not exported:
        raise Http404("This job has no file to download.")
    if not has_perm(request.user, Perm.EXPORT, exported):
        raise PermissionDenied
    if job.latest_status != JobStatus.SUCCESS:
        raise Http404("The export is not finished.")
    path = exports.export_dir() / Path(job.details["file"]).name
    if not path.is_file():
        raise Http404("The file has expired and was removed; export again.")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


RETRYABLE = {"export", "trim", "cleanup"}


@require_POST
def retry_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    """Run a failed export, trim or cleanup again as a new job (tenant admins)."""
    from authmon.tasks import cleanup_run_task, export_run_task, trim_run_task

    job = _job(request, kind, pk)
    if not has_perm(request.user, Perm.RETRY, kind.name):
        raise PermissionDenied
    if job.latest_status != JobStatus.FAILED or job.job_type not in RETRYABLE or job.details.get("runner") != "authmon":
        messages.error(request, "Only failed export, trim and cleanup runs of authmon can be retried.")
        return HttpResponseRedirect(reverse(kind.url_name("detail"), args=[pk]))
    if job.job_type == "export" and not has_perm(request.user, Perm.EXPORT, job.details.get("kind")):
        raise PermissionDenied
    details = {k: v for k, v in job.details.items() if k not in {"progress", "started_at", "duration_seconds"}}
    details["retry_of"] = job.job_id
    new = job_create(tenant=job.tenant, job_name=job.job_name, job_type=job.job_type, details=details)
    task = {"export": export_run_task, "trim": trim_run_task, "cleanup": cleanup_run_task}[job.job_type]
    job_enqueue(new, task)
    messages.success(request, f"Retrying as job {new.job_id}.")
    return HttpResponseRedirect(reverse(kind.url_name("detail"), args=[new.pk]))

"""Job pages beyond the generic ones: live progress, the download of a run's file, retry of a failed run.

Only runs authmon itself made (those with a :class:`~jobs.models.JobRun`) offer a download or a retry, and both read
their parameters from that server-side row, never from the record's ``details``: job records are ingestible, so
``details`` is data the identity service sent, not an instruction (DESIGN section 8, provenance).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from authmon.filestore import StoredPath, StoreError, file_open_verified
from authmon.permissions import Perm, has_perm
from authmon.registry import LogKind
from jobs.models import JobLog, JobStatus, RunFile
from jobs.runner import job_create, job_enqueue, retry_task
from jobs.services import run_file_download_name, run_files_for


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
    """A file a finished run of authmon wrote (an export, a retention archive), for users allowed to export its kind.

    ``?file=N`` picks one of several files of a run (a trim may archive more than once); the default is the first.
    """
    job = _job(request, kind, pk)
    if job.latest_status != JobStatus.SUCCESS:
        raise Http404("This job has no file to download.")
    files = run_files_for(job)
    chosen = request.GET.get("file", "")
    if chosen:
        files = [f for f in files if str(f.pk) == chosen]
    if not files:
        raise Http404("This job has no file to download.")
    stored: RunFile = files[0]
    if not has_perm(request.user, Perm.EXPORT, stored.kind):
        raise PermissionDenied
    try:
        handle = file_open_verified(
            StoredPath(stored.purpose, stored.tenant_id, stored.name), sha256=stored.sha256, size=stored.size
        )
    except StoreError as exc:
        raise Http404(str(exc)) from None
    response = FileResponse(handle, as_attachment=True, filename=run_file_download_name(job, stored))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def retry_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    """Run a failed export, trim or cleanup of authmon again as a new job (tenant admins).

    The new run takes its parameters from the failed run's server-side spec; the user retrying becomes its
    requester, so an export's file is theirs to download and is checked against their own rights.
    """
    job = _job(request, kind, pk)
    if not has_perm(request.user, Perm.RETRY, kind.name):
        raise PermissionDenied
    run = job.console_run
    task = retry_task(job.job_type)
    if run is None or job.latest_status != JobStatus.FAILED or task is None:
        messages.error(request, "Only failed export, trim and cleanup runs of authmon can be retried.")
        return HttpResponseRedirect(reverse(kind.url_name("detail"), args=[pk]))
    if job.job_type == "export" and not has_perm(request.user, Perm.EXPORT, run.spec.get("kind", "")):
        raise PermissionDenied
    shown = {k: v for k, v in job.details.items() if k not in {"progress", "started_at", "duration_seconds"}}
    new = job_create(
        tenant=job.tenant,
        job_name=job.job_name,
        job_type=job.job_type,
        details={**shown, "retry_of": job.job_id, "requested_by": request.user.email},
        spec=run.spec,
        requested_by=request.user,
    )
    job_enqueue(new, task)
    messages.success(request, f"Retrying as job {new.job_id}.")
    return HttpResponseRedirect(reverse(kind.url_name("detail"), args=[new.pk]))

"""Celery tasks of security insights. Thin: the services evaluate and deliver, the job runner records each run."""

from __future__ import annotations

from celery import shared_task

from jobs.models import JobLog
from jobs.runner import JobContext, job_task


@job_task("insights.tasks.alerts_evaluate_run_task")
def alerts_evaluate_run_task(context: JobContext) -> str:
    """Evaluate one tenant's alert rules and send what is new; fails (with the reasons) when a delivery failed."""
    from insights.alerts import AlertDeliveryError, alerts_evaluate

    job = context.job
    report = alerts_evaluate(
        tenant=job.tenant, progress=lambda done, total: context.progress(done, total, f"Rule {done} of {total}")
    )
    job.details = {
        **job.details,
        "rules": report.rules,
        "findings": report.findings,
        "sent": report.sent,
        "suppressed": report.suppressed,
    }
    JobLog.objects.filter(pk=job.pk).update(details=job.details)
    if report.failures:
        raise AlertDeliveryError(report.summary())
    return report.summary()


@shared_task(name="insights.tasks.alerts_evaluate_all_task")
def alerts_evaluate_all_task() -> int:
    """Queue one evaluation run (with its own job record) for every tenant that has an enabled alert rule."""
    from insights.alerts import alerts_evaluation_queue_all

    return alerts_evaluation_queue_all()

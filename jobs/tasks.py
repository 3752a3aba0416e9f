"""The watchdog: runs that stopped sending heartbeats are marked failed."""

from celery import shared_task

from jobs.runner import jobs_mark_stale


@shared_task(name="jobs.tasks.jobs_watchdog_task")
def jobs_watchdog_task() -> int:
    return jobs_mark_stale()

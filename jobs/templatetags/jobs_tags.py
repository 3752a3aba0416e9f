"""Template helpers of the job pages: what a run offers to the user looking at it."""

from __future__ import annotations

from typing import Any

from django import template

from jobs.services import run_files_downloadable

register = template.Library()


@register.simple_tag
def job_downloads(record: Any, user: Any) -> list[Any]:
    """The files of this run that ``user`` may download; empty for an ingested record or an unfinished run."""
    return run_files_downloadable(record, user)


@register.filter
def job_retryable(record: Any) -> bool:
    """Whether this is a failed run of authmon of a type that can run again (export, trim, cleanup)."""
    from jobs.services import RETRYABLE_TYPES

    return record.latest_status == "failed" and record.job_type in RETRYABLE_TYPES and record.console_run is not None


@register.simple_tag
def job_overdue(record: Any) -> dict[str, Any] | None:
    """For a run that is running longer than its type should: how long, what to expect, when it last showed life."""
    from django.utils import timezone

    from jobs.models import expected_minutes, is_overdue

    now = timezone.now()
    if not is_overdue(record, now=now):
        return None
    return {"expected": expected_minutes(record), "heartbeat": record.updated_at, "console": record.console_run}

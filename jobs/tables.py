from typing import Any

import django_tables2 as tables
from django.utils.html import format_html

from authmon.tables import CopyColumn, DetailsColumn, LogTable, StatusColumn, TimeColumn
from jobs.models import JobLog, JobStatus, is_overdue


class JobStatusColumn(StatusColumn):
    """The status badge, plus an "overdue" flag on runs that have been running longer than their type should."""

    def render(self, value: Any, record: Any, bound_column: Any) -> str:
        badge = super().render(value, record, bound_column)
        if record.latest_status == JobStatus.RUNNING and is_overdue(record):
            return format_html(
                '{} <span class="badge text-bg-danger" title="Running longer than a {} job should">overdue</span>',
                badge,
                record.job_type,
            )
        return badge


class JobLogTable(LogTable):
    job_id = tables.Column(verbose_name="Job Id")
    job_name = tables.Column(verbose_name="Job Name")
    job_type = tables.Column(verbose_name="Job Type")
    message = CopyColumn(length=50)
    latest_status = JobStatusColumn(verbose_name="Latest Status")
    created_at = TimeColumn(verbose_name="Created At")
    updated_at = TimeColumn(verbose_name="Updated At")
    details = DetailsColumn(copy_field="details")
    stacktrace = CopyColumn(length=30)

    class Meta(LogTable.Meta):
        model = JobLog
        fields = (
            "job_id",
            "job_name",
            "job_type",
            "message",
            "latest_status",
            "created_at",
            "updated_at",
            "details",
            "stacktrace",
        )

import django_tables2 as tables

from authmon.tables import CopyColumn, DetailsColumn, LogTable, StatusColumn
from jobs.models import JobLog


class JobLogTable(LogTable):
    job_id = tables.Column(verbose_name="Job Id")
    job_name = tables.Column(verbose_name="Job Name")
    job_type = tables.Column(verbose_name="Job Type")
    message = CopyColumn(length=50)
    latest_status = StatusColumn(verbose_name="Latest Status")
    created_at = tables.DateTimeColumn(verbose_name="Created At")
    updated_at = tables.DateTimeColumn(verbose_name="Updated At")
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

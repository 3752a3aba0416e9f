import django_filters

from authmon.filtersets import LogFilterSet
from jobs.models import JobLog


class JobLogFilterSet(LogFilterSet):
    job_id = django_filters.CharFilter(label="Job Id")

    class Meta:
        model = JobLog
        fields = ["job_id", "job_name", "job_type", "message", "latest_status"]

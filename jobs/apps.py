from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Job logs"

    def ready(self) -> None:
        from authmon import registry
        from jobs.filtersets import JobLogFilterSet
        from jobs.models import JobLog
        from jobs.tables import JobLogTable

        registry.register(
            registry.LogKind(
                name="jobs",
                model=JobLog,
                label="Job Logs",
                table=JobLogTable,
                filterset=JobLogFilterSet,
                field_map_path="jobs.nlq_fields.JOB_FIELDS",
                time_field="created_at",
                search_fields=("job_name",),
                search_label="Search by job name",
                export_label="Export Job Logs",
                noun="job runs",
                extra={
                    "record_actions": {
                        "progress": "jobs.views.progress_view",
                        "download": "jobs.views.download_view",
                        "retry": "jobs.views.retry_view",
                    },
                    "detail_template": "jobs/detail_extra.html",
                    "detail_actions": "jobs/detail_actions.html",
                    "singular": "Job run",
                },
            )
        )

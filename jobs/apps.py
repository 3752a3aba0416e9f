from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Job logs"

    def ready(self) -> None:
        from authmon import registry
        from jobs import views
        from jobs.demo import JobsDemo
        from jobs.filtersets import JobLogFilterSet
        from jobs.models import JobLog
        from jobs.nlq_fields import JOB_FIELDS
        from jobs.tables import JobLogTable
        from jobs.trim import JobTrimPolicy

        registry.register(
            registry.LogKind(
                model=JobLog,
                table=JobLogTable,
                filterset=JobLogFilterSet,
                field_map=JOB_FIELDS,
                menu_order=30,
                default_retention_days=90,
                trim=JobTrimPolicy(),
                search_fields=("job_name",),
                search_label="Search by job name",
                export_label="Export Job Logs",
                demo_builder=JobsDemo,
                noun="job runs",
                singular_label="Job run",
                detail_template="jobs/detail_extra.html",
                detail_actions_template="jobs/detail_actions.html",
                record_actions={
                    "progress": views.progress_view,
                    "download": views.download_view,
                    "retry": views.retry_view,
                },
            )
        )

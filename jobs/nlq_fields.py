"""NLQ field map of Job Logs (jobs.JobLog). Importable without Django set up."""

from nlq import Choice, Field, FieldMap, FieldType, created_synonyms

JOB_FIELDS = FieldMap(
    kind="jobs",
    title="Job Logs",
    fields=[
        Field("job_id", "job id", synonyms=("id", "job identifier")),
        Field("job_name", "job name", synonyms=("name",)),
        Field(
            "job_type",
            "job type",
            FieldType.ENUM,
            ("type", "job kind", "kind"),
            (
                Choice("trim", synonyms=("trimming",)),
                Choice("email", synonyms=("mail", "e-mail")),
                Choice("import", synonyms=("imports",)),
                Choice("export", synonyms=("exports",)),
                Choice("archive", synonyms=("archiving",)),
                Choice("sync", synonyms=("synchronization", "synchronisation")),
                Choice("cleanup", synonyms=("clean up",)),
            ),
        ),
        Field("message", "message", synonyms=("msg", "error message", "error", "status message")),
        Field(
            "latest_status",
            "latest status",
            FieldType.ENUM,
            ("status", "state", "result"),
            (
                Choice("pending", synonyms=("queued", "waiting")),
                Choice("running", synonyms=("in progress", "started")),
                Choice("success", synonyms=("succeeded", "successful", "completed")),
                Choice("failed", synonyms=("failure", "failures")),
            ),
        ),
        Field(
            "created_at",
            "created at",
            FieldType.DATETIME,
            ("created", "created on", "start time", "started at", *created_synonyms("job")),
        ),
        Field("updated_at", "updated at", FieldType.DATETIME, ("updated", "updated on", "last update", "last updated")),
        Field("stacktrace", "stacktrace", synonyms=("stack trace", "trace", "traceback")),
        Field("details", "details", FieldType.JSON, ("detail", "data")),
        Field("external_id", "external id"),
    ],
    time_field="created_at",
    status_field="latest_status",
    nouns=("jobs", "job", "job logs", "job runs", "runs", "executions"),
    examples=(
        'the job name is "audit log trim"',
        "job type contains 'email' and status is 'failed'",
        "the job was created in the last 24 hours",
        "show running jobs older than 1 hour",
    ),
)

"""Demo job logs: the background jobs of the demo world, for ``console.demo`` (``LogKind.demo_builder``).

Scripted: the nightly "audit log trim" of every night (last night's run failed), one failure of every job type with
its stack trace, a directory sync stuck "running" for hours, a job running and two queued right now. Then random runs
of the recurring jobs of :data:`JOB_CATALOG` around the clock, 7% of them failed, up to the jobs' share of the rows.
The stack traces are also what the test factories use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from authmon.world import DAYS, DemoBuilder, DemoTenant
from jobs.models import JobLog, JobStatus, JobType

# --------------------------------------------------------------------------------------------------------------
# Stack traces and job catalog
# --------------------------------------------------------------------------------------------------------------

_TB_HEAD = "Traceback (most recent call last):\n"
_RUNNER = (
    '  File "/srv/authmon/authmon/jobs/runner.py", line 112, in run\n    result = handler(job, progress=progress)\n'
)
_SITE = "/srv/authmon/.venv/lib/python3.11/site-packages"

STACKTRACES: dict[str, tuple[str, str]] = {
    "statement_timeout": (
        "Trim aborted after 300 s: canceling statement due to statement timeout",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/trim.py", line 58, in trim_kind\n'
        '    deleted = queryset.filter(**{f"{kind.time_field}__lt": cutoff}).purge_expired()\n'
        '  File "/srv/authmon/audit/models.py", line 49, in purge_expired\n'
        "    return self._raw_delete(self.db)\n"
        f'  File "{_SITE}/django/db/models/query.py", line 1255, in _raw_delete\n'
        "    cursor = query.get_compiler(using).execute_sql(CURSOR)\n"
        f'  File "{_SITE}/django/db/backends/utils.py", line 105, in _execute\n'
        "    return self.cursor.execute(sql, params)\n"
        f'  File "{_SITE}/psycopg/cursor.py", line 97, in execute\n'
        "    raise ex.with_traceback(None)\n"
        "django.db.utils.OperationalError: canceling statement due to statement timeout\n",
    ),
    "db_connection": (
        "Lost the database connection: server closed the connection unexpectedly",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/sessions_grants/services.py", line 77, in access_expire\n'
        "    updated = Session.objects.filter(expires_at__lt=now, status=AccessStatus.ACTIVE).update(\n"
        f'  File "{_SITE}/django/db/models/query.py", line 1253, in update\n'
        "    rows = query.get_compiler(self.db).execute_sql(CURSOR)\n"
        f'  File "{_SITE}/django/db/backends/utils.py", line 105, in _execute\n'
        "    return self.cursor.execute(sql, params)\n"
        f'  File "{_SITE}/psycopg/cursor.py", line 97, in execute\n'
        "    raise ex.with_traceback(None)\n"
        "django.db.utils.OperationalError: consuming input failed: server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally\n"
        "\tbefore or while processing the request.\n",
    ),
    "smtp_auth": (
        "SMTP authentication failed for smtp.example.com:587 (535 5.7.8 Authentication credentials invalid)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/notifications/mailer.py", line 64, in send_batch\n'
        "    connection.open()\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 95, in open\n'
        "    self.connection.login(self.username, self.password)\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 750, in login\n'
        "    raise last_exception\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 739, in login\n'
        "    (code, resp) = self.auth(\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 662, in auth\n'
        "    raise SMTPAuthenticationError(code, resp)\n"
        "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')\n",
    ),
    "smtp_disconnected": (
        "Connection to smtp.example.com:587 dropped after 212 of 480 messages",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/notifications/mailer.py", line 71, in send_batch\n'
        "    sent += connection.send_messages(chunk)\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 141, in send_messages\n'
        "    sent = self._send(message)\n"
        f'  File "{_SITE}/django/core/mail/backends/smtp.py", line 155, in _send\n'
        '    self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\\r\\n"))\n'
        '  File "/usr/lib/python3.11/smtplib.py", line 887, in sendmail\n'
        "    (code, resp) = self.mail(from_addr, esmtp_opts)\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 398, in getreply\n'
        '    raise SMTPServerDisconnected("Connection unexpectedly closed")\n'
        "smtplib.SMTPServerDisconnected: Connection unexpectedly closed\n",
    ),
    "import_row": (
        "Row 418: 'jane.doe@example' is not a valid e-mail address; import rolled back (0 of 1,204 users created)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/imports.py", line 93, in import_users\n'
        "    record = UserRow.model_validate(row)\n"
        f'  File "{_SITE}/pydantic/main.py", line 596, in model_validate\n'
        "    return cls.__pydantic_validator__.validate_python(\n"
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for UserRow\n"
        "email\n"
        "  value is not a valid email address: The part after the @-sign is not valid. It should have a period.\n"
        "    [type=value_error, input_value='jane.doe@example', input_type=str]\n",
    ),
    "import_key": (
        "Column 'department' missing from groups.csv (found: name, description, owner)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/imports.py", line 141, in import_groups\n'
        '    department = row["department"]\n'
        "KeyError: 'department'\n",
    ),
    "disk_full": (
        "Export failed after 612,000 rows: no space left on device",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/authmon/exports.py", line 120, in export_to_file\n'
        "    for chunk in stream:\n"
        '  File "/srv/authmon/authmon/exports.py", line 88, in write_json\n'
        "    handle.write(encoder.encode(record))\n"
        "OSError: [Errno 28] No space left on device\n",
    ),
    "archive_permission": (
        "Cannot write the archive: permission denied on /var/lib/authmon/archives",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/audit/archive.py", line 52, in archive_audit\n'
        '    with open(target, "wb") as handle:\n'
        "PermissionError: [Errno 13] Permission denied: '/var/lib/authmon/archives/audit-{month}.json'\n",
    ),
    "sync_rate_limit": (
        "Okta API rate limit exceeded (429) after 3 retries; will retry at the next run",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 77, in sync_groups\n'
        "    page = client.list_groups(after=cursor, limit=200)\n"
        '  File "/srv/authmon/jobs/connectors/okta.py", line 45, in list_groups\n'
        "    response.raise_for_status()\n"
        f'  File "{_SITE}/requests/models.py", line 1021, in raise_for_status\n'
        "    raise HTTPError(http_error_msg, response=self)\n"
        "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: "
        "https://example.okta.com/api/v1/groups?limit=200\n",
    ),
    "sync_auth": (
        "Microsoft Graph rejected the client credentials (401): the client secret has expired",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 51, in sync_directory\n'
        "    token = connector.acquire_token()\n"
        '  File "/srv/authmon/jobs/connectors/azure.py", line 38, in acquire_token\n'
        '    raise ConnectorAuthError(result.get("error_description", "unauthorized"))\n'
        "jobs.connectors.base.ConnectorAuthError: AADSTS7000222: The provided client secret keys for app "
        "'3f1c2a9e-0d4b-4c55-9a7e-1b2c3d4e5f60' are expired.\n",
    ),
    "sync_timeout": (
        "SCIM endpoint timed out after 30 s (read timeout)",
        _TB_HEAD + _RUNNER + '  File "/srv/authmon/jobs/sync.py", line 104, in sync_scim\n'
        "    response = session.get(url, params=params, timeout=30)\n"
        f'  File "{_SITE}/requests/sessions.py", line 602, in get\n'
        '    return self.request("GET", url, **kwargs)\n'
        f'  File "{_SITE}/requests/adapters.py", line 713, in send\n'
        "    raise ReadTimeout(e, request=request)\n"
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='wd5-services.example.com', port=443): "
        "Read timed out. (read timeout=30)\n",
    ),
}

FAILURES_BY_TYPE: dict[str, tuple[str, ...]] = {
    JobType.TRIM: ("statement_timeout", "db_connection"),
    JobType.EMAIL: ("smtp_auth", "smtp_disconnected"),
    JobType.IMPORT: ("import_row", "import_key"),
    JobType.EXPORT: ("disk_full", "db_connection"),
    JobType.ARCHIVE: ("archive_permission", "statement_timeout"),
    JobType.SYNC: ("sync_rate_limit", "sync_auth", "sync_timeout"),
    JobType.CLEANUP: ("db_connection",),
}

# (name, type, weight, typical duration in seconds) of the recurring jobs that fill the job log.
JOB_CATALOG: tuple[tuple[str, str, int, int], ...] = (
    ("event log trim", JobType.TRIM, 6, 40),
    ("notification log trim", JobType.TRIM, 3, 12),
    ("session and grant trim", JobType.TRIM, 3, 20),
    ("expired session cleanup", JobType.CLEANUP, 18, 4),
    ("expired grant cleanup", JobType.CLEANUP, 9, 3),
    ("send password reset emails", JobType.EMAIL, 8, 6),
    ("send invitation emails", JobType.EMAIL, 6, 9),
    ("weekly security digest email", JobType.EMAIL, 1, 45),
    ("import users from HR CSV", JobType.IMPORT, 3, 70),
    ("import groups from LDAP export", JobType.IMPORT, 2, 30),
    ("export events (csv)", JobType.EXPORT, 5, 25),
    ("export audit logs (json)", JobType.EXPORT, 3, 35),
    ("audit log archive", JobType.ARCHIVE, 2, 120),
    ("sync Azure AD directory", JobType.SYNC, 8, 180),
    ("sync Okta groups", JobType.SYNC, 6, 60),
    ("SCIM sync: Workday", JobType.SYNC, 4, 240),
)


def job_add(
    world: DemoTenant,
    name: str,
    jtype: str,
    start: dt.datetime,
    *,
    status: str = JobStatus.SUCCESS,
    duration: float = 10,
    failure: str | None = None,
    message: str = "",
    trigger: str = "schedule",
    **details: Any,
) -> None:
    """Queue one finished (or failed) run of job ``name``; a failure gets its message and stack trace."""
    rng = world.rng
    stacktrace = ""
    if status == JobStatus.FAILED:
        failure = failure or rng.choice(FAILURES_BY_TYPE[jtype])
        message, stacktrace = STACKTRACES[failure]
        stacktrace = stacktrace.replace("{month}", start.strftime("%Y-%m"))
    elif not message:
        message = _job_message(world, jtype, name)
    end = min(start + dt.timedelta(seconds=duration), world.now)
    info = {
        "duration_ms": int((end - start).total_seconds() * 1000),
        "worker": f"worker-{rng.randint(1, 4)}",
        "queue": "default" if jtype != JobType.EMAIL else "mail",
        "attempt": 1,
        "triggered_by": trigger,
    }
    if status in {JobStatus.SUCCESS, JobStatus.FAILED}:
        info["progress"] = 100 if status == JobStatus.SUCCESS else rng.randint(5, 95)
    info.update(details)
    world.add(
        "jobs",
        JobLog(
            tenant_id=world.tenant.pk,
            job_id=world.uid(),
            job_name=name,
            job_type=jtype,
            message=message,
            latest_status=status,
            created_at=start,
            updated_at=end,
            stacktrace=stacktrace,
            details=info,
        ),
    )


def _job_message(world: DemoTenant, jtype: str, name: str) -> str:
    n = world.rng.randint(0, 2500)
    messages: dict[str, str] = {
        JobType.TRIM: f"Trimmed {n:,} records past the retention period",
        JobType.EMAIL: f"Sent {n % 300 + 1:,} e-mails, 0 failed",
        JobType.IMPORT: f"Imported {n:,} rows: {n - n // 20:,} created, {n // 20:,} updated",
        JobType.EXPORT: f"Exported {n * 40:,} rows to {name.split('(')[-1].rstrip(')') or 'json'}",
        JobType.ARCHIVE: f"Archived {n * 10:,} audit records and trimmed them",
        JobType.SYNC: f"Synchronised {n:,} users and {n // 30:,} groups ({n // 50:,} changes)",
        JobType.CLEANUP: f"Marked {n // 10:,} sessions and {n // 25:,} grants as expired",
    }
    return messages[jtype]


class JobsDemo(DemoBuilder):
    """The tenant's job runs: the scripted ones, then random runs of the recurring jobs."""

    kinds = ("jobs",)
    order = 30
    share = 0.04

    def script(self) -> None:
        """The nightly audit log trim (last night's run failed), one failure per type, a stuck sync, live ones."""
        w = self.world
        local_now = w.now.astimezone(w.tz)
        latest_night = 0 if local_now.time() >= dt.time(2, 5) else 1  # tonight's 02:00 run is over by 02:05
        for days_ago in range(latest_night, latest_night + DAYS):
            start = w.local(days_ago, 2, 0, self.rng.randint(0, 40))
            failed = days_ago in {latest_night, latest_night + 11}
            job_add(
                w,
                "audit log trim",
                JobType.TRIM,
                start,
                duration=self.rng.uniform(20, 90),
                status=JobStatus.FAILED if failed else JobStatus.SUCCESS,
                failure="statement_timeout",
                message=f"Trimmed {self.rng.randint(0, 400):,} audit records older than "
                f"{w.tenant.retention_days('audit')} days",
                kind="audit",
                retention_days=w.tenant.retention_days("audit"),
            )
        failures = {
            JobType.EMAIL: ("send password reset emails", "smtp_auth", w.local(1, 9, 30)),
            JobType.IMPORT: ("import users from HR CSV", "import_row", w.local(6, 7, 15)),
            JobType.EXPORT: ("export audit logs (json)", "disk_full", w.local(8, 13, 2)),
            JobType.ARCHIVE: ("audit log archive", "archive_permission", w.local(15, 3, 0)),
            JobType.SYNC: ("sync Okta groups", "sync_rate_limit", w.local(2, 12, 40)),
            JobType.CLEANUP: ("expired session cleanup", "db_connection", w.local(4, 4, 0)),
        }
        for jtype, (name, failure, start) in failures.items():
            job_add(w, name, jtype, start, status=JobStatus.FAILED, failure=failure, duration=self.rng.uniform(3, 200))
        for jtype in (JobType.EMAIL, JobType.IMPORT, JobType.EXPORT, JobType.ARCHIVE, JobType.SYNC, JobType.CLEANUP):
            name = next(entry[0] for entry in JOB_CATALOG if entry[1] == jtype)
            job_add(w, name, jtype, w.local(self.rng.randint(1, 6), self.rng.randint(6, 20)))
        # A directory sync that hung hours ago: its last heartbeat is long past.
        stuck = w.ago(hours=5, minutes=12)
        w.add(
            "jobs",
            JobLog(
                tenant_id=w.tenant.pk,
                job_id=w.uid(),
                job_name="sync Azure AD directory",
                job_type=JobType.SYNC,
                message="Synchronising users: 18,200 of 42,000 (43%)",
                latest_status=JobStatus.RUNNING,
                created_at=stuck,
                updated_at=stuck + dt.timedelta(minutes=14),
                details={
                    "worker": "worker-3",
                    "queue": "default",
                    "attempt": 1,
                    "triggered_by": "schedule",
                    "progress": 43,
                    "last_heartbeat": (stuck + dt.timedelta(minutes=14)).isoformat(),
                },
            ),
        )
        running = w.ago(seconds=40)
        w.add(
            "jobs",
            JobLog(
                tenant_id=w.tenant.pk,
                job_id=w.uid(),
                job_name="expired session cleanup",
                job_type=JobType.CLEANUP,
                message="Scanning sessions past expires_at",
                latest_status=JobStatus.RUNNING,
                created_at=running,
                updated_at=running + dt.timedelta(seconds=30),
                details={
                    "worker": "worker-1",
                    "queue": "default",
                    "attempt": 1,
                    "triggered_by": "schedule",
                    "progress": 60,
                },
            ),
        )
        for name, jtype, seconds, trigger in (
            ("export events (csv)", JobType.EXPORT, 25, w.admins[0]),
            ("send invitation emails", JobType.EMAIL, 12, "schedule"),
        ):
            queued = w.ago(seconds=seconds)
            w.add(
                "jobs",
                JobLog(
                    tenant_id=w.tenant.pk,
                    job_id=w.uid(),
                    job_name=name,
                    job_type=jtype,
                    message="Queued",
                    latest_status=JobStatus.PENDING,
                    created_at=queued,
                    updated_at=queued,
                    details={"queue": "default", "attempt": 0, "triggered_by": trigger},
                ),
            )

    def fill(self, target: int) -> None:
        w = self.world
        rng = self.rng
        names = [(name, jtype, duration) for name, jtype, _, duration in JOB_CATALOG]
        weights = [weight for _, _, weight, _ in JOB_CATALOG]
        while w.count("jobs") < target:
            name, jtype, duration = rng.choices(names, weights=weights)[0]
            start = w.pick_time(w.flat_cum, margin_minutes=15)
            status = JobStatus.FAILED if rng.random() < 0.07 else JobStatus.SUCCESS
            trigger = w.admins[0] if jtype in {JobType.EXPORT, JobType.IMPORT} else "schedule"
            job_add(w, name, jtype, start, status=status, duration=duration * rng.uniform(0.5, 2.5), trigger=trigger)

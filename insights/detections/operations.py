"""Detections over the tenant's operations rather than its users' sign-ins: password-reset e-mails that failed or
bounced, and a job that keeps failing.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Min

from insights.detections.base import Finding, Param, Scope, detection
from insights.detections.text import time_text
from insights.detections.windows import find_bursts
from insights.models import Detection, Severity
from jobs.models import JobLog, JobStatus
from notifications.models import Category, NotificationLog, NotificationStatus


@detection(
    Detection.FAILED_RESET_EMAILS,
    severity=Severity.LOW,
    kind="notifications",
    description="Password-reset e-mails that failed or bounced: a social-engineering indicator, or a user locked "
    "out for good.",
    params=(Param("failures", "Failed e-mails to one recipient, at least", 1, 1),),
)
def failed_reset_emails(scope: Scope) -> list[Finding]:
    p = scope.params
    bad = (NotificationStatus.FAILED, NotificationStatus.BOUNCED)
    groups = list(
        scope.records(NotificationLog, "timestamp")
        .filter(category=Category.PASSWORD_RESET, status__in=bad)
        .values("recipient")
        .annotate(n=Count("pk"), first=Min("timestamp"), last=Max("timestamp"))
        .filter(n__gte=p["failures"])
        .order_by("-n", "-last")[: scope.limit]
    )
    return [
        scope.finding(
            key={"recipient": g["recipient"]},
            title=f"{g['n']} failed password-reset e-mail{'s' if g['n'] > 1 else ''} to {g['recipient']}",
            summary=f"Password-reset e-mails to {g['recipient']} failed or bounced {g['n']} time"
            f"{'s' if g['n'] > 1 else ''}, last at {time_text(g['last'], scope.tenant.tz)}.",
            count=g["n"],
            first=g["first"],
            last=g["last"],
            evidence=scope.evidence(
                "notifications",
                g["first"],
                g["last"],
                recipient=g["recipient"],
                category=Category.PASSWORD_RESET,
                status=bad,
            ),
        )
        for g in groups
    ]


@detection(
    Detection.JOB_FAILURES,
    severity=Severity.LOW,
    kind="jobs",
    description="The same job failing again and again.",
    params=(
        Param("failures", "Failed runs, at least", 2, 2),
        Param("window_hours", "Within (hours)", 24, 1, 24 * 31),
    ),
)
def job_failures(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    found = []
    for burst in find_bursts(
        scope.records(JobLog, "created_at").filter(latest_status=JobStatus.FAILED),
        key="job_name",
        time_field="created_at",
        window=dt.timedelta(hours=p["window_hours"]),
        min_rows=p["failures"],
        extra=("message",),
        limit=scope.limit,
    ):
        latest = burst.rows[-1]["message"] or "no message"
        found.append(
            scope.finding(
                key={"job_name": burst.value},
                title=f"“{burst.value}” failed {burst.count} times",
                summary=f"Up to {burst.peak} failed runs within {p['window_hours']} hours, between "
                f"{time_text(burst.first, tz)} and {time_text(burst.last, tz)}. Latest: {latest[:160]}",
                count=burst.count,
                first=burst.first,
                last=burst.last,
                evidence=scope.evidence(
                    "jobs", burst.first, burst.last, job_name=burst.value, latest_status=JobStatus.FAILED
                ),
            )
        )
    return found

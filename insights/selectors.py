"""Reads for the Insights and Review pages: chart data (each chart also a table) and the review checklists.

Every number links to the list page that shows its rows (DESIGN 6b parameters), so a chart or a count is always
one click from the records behind it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q
from django.db.models.functions import ExtractHour, Trunc
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog, ResourceType
from authmon import registry
from authmon.daterange import DateRange
from authmon.models import Tenant
from events.models import EventLog, EventType
from insights.models import ReviewCadence, ReviewNote
from jobs.models import JobLog, JobStatus, JobType
from notifications.models import Category, NotificationLog, NotificationStatus
from sessions_grants.models import AccessStatus, Grant, Session

TOP = 10
# Fixed colours, so a status or event type looks the same on every chart and every visit.
GOOD, BAD, WARN, MUTED, INFO = "#198754", "#dc3545", "#fd7e14", "#6c757d", "#0d6efd"
EVENT_COLORS = {
    EventType.LOGIN: INFO,
    EventType.LOGIN_FAILED: BAD,
    EventType.LOGOUT: "#6f42c1",
    EventType.MFA_VERIFIED: "#20c997",
    EventType.MFA_FAILED: WARN,
    EventType.PASSWORD_RESET: "#d63384",
    EventType.ACCOUNT_LOCKED: "#842029",
    EventType.SESSION_CREATED: "#0dcaf0",
    EventType.TOKEN_REFRESHED: MUTED,
}
STATUS_COLORS = {
    NotificationStatus.PENDING: MUTED,
    NotificationStatus.SENT: GOOD,
    NotificationStatus.FAILED: BAD,
    NotificationStatus.BOUNCED: WARN,
}


@dataclass
class Cell:
    text: str
    url: str = ""
    numeric: bool = False


@dataclass
class Chart:
    """A chart and the table that is its fallback: the same numbers, the table always rendered."""

    slug: str
    title: str
    chart_type: str  # bar | line
    labels: list[str]
    datasets: list[dict[str, Any]]
    headers: list[Cell]
    rows: list[list[Cell]]
    stacked: bool = False
    horizontal: bool = False
    note: str = ""

    @property
    def spec(self) -> dict[str, Any]:
        """What static/insights/insights.js needs to draw the chart (passed with ``json_script``)."""
        return {
            "type": self.chart_type,
            "labels": self.labels,
            "datasets": self.datasets,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
        }

    @property
    def empty(self) -> bool:
        return not self.rows


def list_url(kind: str, params: list[tuple[str, str]]) -> str:
    return f"{registry.get(kind).list_url}?{urlencode(params)}"


def period_params(period: DateRange, tz: ZoneInfo) -> list[tuple[str, str]]:
    """The list-page parameters that select the same period."""
    if period.preset:
        return [("preset", period.preset)]
    params = []
    if period.start is not None:
        params.append(("start", period.start.astimezone(tz).replace(microsecond=0).isoformat()))
    if period.end is not None:
        params.append(("end", period.end.astimezone(tz).replace(microsecond=0).isoformat()))
    return params or [("preset", "all")]


def _within(qs: Any, time_field: str, period: DateRange) -> Any:
    if period.start is not None:
        qs = qs.filter(**{f"{time_field}__gte": period.start})
    if period.end is not None:
        qs = qs.filter(**{f"{time_field}__lt": period.end})
    return qs.order_by()


def _buckets(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> tuple[str, list[dt.datetime]]:
    """The unit that gives a readable number of points for the span, and every bucket start in ``tz``."""
    span = end - start
    unit = "hour" if span <= dt.timedelta(days=2) else "day" if span <= dt.timedelta(days=92) else "month"
    local = start.astimezone(tz)
    if unit == "hour":
        cursor = local.replace(minute=0, second=0, microsecond=0)
    elif unit == "day":
        cursor = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        cursor = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    points = []
    while cursor < end and len(points) < 2000:
        points.append(cursor)
        if unit == "hour":
            cursor = (cursor.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(tz)
        elif unit == "day":
            cursor = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        else:
            cursor = dt.datetime.combine(
                (cursor.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1), dt.time.min, tzinfo=tz
            )
    return unit, points


def _label(moment: dt.datetime, unit: str, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return local.strftime({"hour": "%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}[unit])


def events_over_time(tenant: Tenant, period: DateRange, *, now: dt.datetime) -> Chart:
    tz = tenant.tz
    events = _within(EventLog.objects.for_tenant(tenant), "created_on", period)
    start = period.start or events.aggregate(first=Min("created_on"))["first"] or now
    end = period.end or now
    unit, points = _buckets(start, end, tz)
    counts: dict[tuple[str, str], int] = {}
    for row in (
        events.annotate(_b=Trunc("created_on", unit, tzinfo=tz)).values("_b", "event_type").annotate(n=Count("pk"))
    ):
        counts[(_label(row["_b"], unit, tz), row["event_type"])] = row["n"]
    labels = [_label(p, unit, tz) for p in points]
    present = [t for t in EventType if any(key[1] == t for key in counts)]
    base = period_params(period, tz)
    headers = [Cell(unit.capitalize())] + [
        Cell(t.label, list_url("events", [("event_type", t.value), *base])) for t in present
    ]
    rows = []
    for label in labels:
        values = [counts.get((label, t.value), 0) for t in present]
        if not any(values):
            continue
        rows.append([Cell(label)] + [Cell(f"{v:,}", numeric=True) for v in values])
    datasets = [
        {"label": t.label, "data": [counts.get((label, t.value), 0) for label in labels], "color": EVENT_COLORS[t]}
        for t in present
    ]
    return Chart(
        slug="events-over-time",
        title=f"Events by type, per {unit}",
        chart_type="line",
        labels=labels,
        datasets=datasets,
        headers=headers,
        rows=rows,
        note=f"Times in {tenant.timezone}. Empty {unit}s are left out of the table.",
    )


def failed_logins_by_hour(tenant: Tenant, period: DateRange) -> Chart:
    tz = tenant.tz
    failures = _within(EventLog.objects.for_tenant(tenant), "created_on", period).filter(
        event_type=EventType.LOGIN_FAILED
    )
    by_hour = {
        row["_h"]: row["n"]
        for row in failures.annotate(_h=ExtractHour("created_on", tzinfo=tz)).values("_h").annotate(n=Count("pk"))
    }
    labels = [f"{hour:02d}:00" for hour in range(24)]
    data = [by_hour.get(hour, 0) for hour in range(24)]
    rows = [[Cell(label), Cell(f"{n:,}", numeric=True)] for label, n in zip(labels, data, strict=True)]
    return Chart(
        slug="failed-by-hour",
        title="Failed logins by hour of day",
        chart_type="bar",
        labels=labels,
        datasets=[{"label": "Failed logins", "data": data, "color": BAD}],
        headers=[Cell("Hour"), Cell("Failed logins")],
        rows=rows if any(data) else [],
        note=f"Hour of day in {tenant.timezone}, summed over the period.",
    )


def top_failing(tenant: Tenant, period: DateRange, field_name: str, title: str, header: str) -> Chart:
    tz = tenant.tz
    failures = _within(EventLog.objects.for_tenant(tenant), "created_on", period).filter(
        event_type=EventType.LOGIN_FAILED
    )
    failures = failures.exclude(**{field_name: ""}) if field_name == "email" else failures.exclude(ip_address=None)
    top = list(failures.values(field_name).annotate(n=Count("pk")).order_by("-n", field_name)[:TOP])
    base = period_params(period, tz)
    rows = [
        [
            Cell(str(row[field_name]), list_url("events", [(field_name, str(row[field_name])), *base])),
            Cell(
                f"{row['n']:,}",
                list_url("events", [(field_name, str(row[field_name])), ("event_type", EventType.LOGIN_FAILED), *base]),
                numeric=True,
            ),
        ]
        for row in top
    ]
    return Chart(
        slug=f"top-{field_name.replace('_', '-')}",
        title=title,
        chart_type="bar",
        labels=[str(row[field_name]) for row in top],
        datasets=[{"label": "Failed logins", "data": [row["n"] for row in top], "color": BAD}],
        headers=[Cell(header), Cell("Failed logins")],
        rows=rows,
        horizontal=True,
    )


def job_health(tenant: Tenant, period: DateRange) -> Chart:
    tz = tenant.tz
    jobs = _within(JobLog.objects.for_tenant(tenant), "created_at", period)
    top = list(
        jobs.values("job_name")
        .annotate(
            success=Count("pk", filter=Q(latest_status=JobStatus.SUCCESS)),
            failed=Count("pk", filter=Q(latest_status=JobStatus.FAILED)),
            other=Count("pk", filter=Q(latest_status__in=[JobStatus.PENDING, JobStatus.RUNNING])),
        )
        .order_by("-failed", "job_name")[:20]
    )
    base = period_params(period, tz)

    def link(name: str, status: str | None = None) -> str:
        return list_url("jobs", [("job_name", name), *([("latest_status", status)] if status else []), *base])

    rows = [
        [
            Cell(row["job_name"], link(row["job_name"])),
            Cell(f"{row['success']:,}", link(row["job_name"], JobStatus.SUCCESS), numeric=True),
            Cell(f"{row['failed']:,}", link(row["job_name"], JobStatus.FAILED), numeric=True),
            Cell(f"{row['other']:,}", numeric=True),
        ]
        for row in top
    ]
    return Chart(
        slug="job-health",
        title="Job health",
        chart_type="bar",
        labels=[row["job_name"] for row in top],
        datasets=[
            {"label": "Succeeded", "data": [row["success"] for row in top], "color": GOOD},
            {"label": "Failed", "data": [row["failed"] for row in top], "color": BAD},
        ],
        headers=[Cell("Job name"), Cell("Succeeded"), Cell("Failed"), Cell("Pending or running")],
        rows=rows,
        stacked=True,
        horizontal=True,
        note="Jobs with the most failures first (at most 20).",
    )


def email_health(tenant: Tenant, period: DateRange) -> Chart:
    tz = tenant.tz
    mails = _within(NotificationLog.objects.for_tenant(tenant), "timestamp", period)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in mails.values("category", "status").annotate(n=Count("pk")):
        counts[row["category"]][row["status"]] = row["n"]
    categories = [c for c in Category if c.value in counts]
    statuses = list(NotificationStatus)
    base = period_params(period, tz)
    rows = []
    for category in categories:
        total = sum(counts[category].values())
        bad = counts[category].get(NotificationStatus.FAILED, 0) + counts[category].get(NotificationStatus.BOUNCED, 0)
        cells = [Cell(category.label, list_url("notifications", [("category", category.value), *base]))]
        for status in statuses:
            n = counts[category].get(status.value, 0)
            url = list_url("notifications", [("category", category.value), ("status", status.value), *base])
            cells.append(Cell(f"{n:,}", url if n else "", numeric=True))
        cells.append(Cell(f"{bad / total:.1%}" if total else "–", numeric=True))
        rows.append(cells)
    return Chart(
        slug="email-health",
        title="E-mail delivery health",
        chart_type="bar",
        labels=[c.label for c in categories],
        datasets=[
            {"label": s.label, "data": [counts[c].get(s.value, 0) for c in categories], "color": STATUS_COLORS[s]}
            for s in statuses
        ],
        headers=[Cell("Category"), *[Cell(s.label) for s in statuses], Cell("Failed or bounced")],
        rows=rows,
        stacked=True,
    )


def insights_charts(tenant: Tenant, period: DateRange, *, now: dt.datetime | None = None) -> list[Chart]:
    """The Insights page's charts for ``period``, in page order."""
    now = now or timezone.now()
    return [
        events_over_time(tenant, period, now=now),
        failed_logins_by_hour(tenant, period),
        top_failing(tenant, period, "email", "Top failing e-mail addresses", "E-mail"),
        top_failing(tenant, period, "ip_address", "Top failing IP addresses", "IP address"),
        job_health(tenant, period),
        email_health(tenant, period),
    ]


# --------------------------------------------------------------------------------------------------------------
# Reviews
# --------------------------------------------------------------------------------------------------------------


@dataclass
class ReviewItem:
    """One line of a review checklist: what to look at, how many there are, and where."""

    label: str
    count: int | None
    url: str
    hint: str = ""
    attention: bool = False  # the count is something to act on
    parts: list[tuple[str, int, str]] = field(default_factory=list)  # (label, count, url) breakdown


@dataclass
class ReviewSection:
    cadence: ReviewCadence
    title: str
    period: str
    items: list[ReviewItem]
    last_note: ReviewNote | None
    due: bool


CADENCE_DAYS = {ReviewCadence.DAILY: 1, ReviewCadence.WEEKLY: 7, ReviewCadence.MONTHLY: 30}
HIGH_PRIVILEGE = (
    ResourceType.IDENTITY_PROVIDER,
    ResourceType.ROLE,
    ResourceType.PERMISSION,
    ResourceType.SECRET,
    ResourceType.CERTIFICATE,
    ResourceType.TENANT_SETTINGS,
)


def review_sections(tenant: Tenant, *, now: dt.datetime | None = None) -> list[ReviewSection]:
    """The guide's daily, weekly and monthly review lists ("Security Monitoring"), with counts and links."""
    now = now or timezone.now()
    tz = tenant.tz
    day, week, month = (now - dt.timedelta(days=n) for n in (1, 7, 30))

    def since(moment: dt.datetime) -> tuple[str, str]:
        return ("start", moment.astimezone(tz).replace(microsecond=0).isoformat())

    def before(moment: dt.datetime) -> tuple[str, str]:
        return ("end", moment.astimezone(tz).replace(microsecond=0).isoformat())

    events = EventLog.objects.for_tenant(tenant)
    audit = AuditLog.objects.for_tenant(tenant)
    jobs = JobLog.objects.for_tenant(tenant)
    mails = NotificationLog.objects.for_tenant(tenant)
    sessions = Session.objects.for_tenant(tenant)
    grants = Grant.objects.for_tenant(tenant)

    def event_count(event_type: str) -> int:
        return events.filter(event_type=event_type, created_on__gte=day).count()

    failed_ips = (
        events.filter(event_type=EventType.LOGIN_FAILED, created_on__gte=day, ip_address__isnull=False)
        .values("ip_address")
        .distinct()
        .count()
    )
    insights_day = f"{reverse('insights:overview')}?{urlencode([since(day)])}"
    daily = [
        ReviewItem(
            "Failed logins in the last 24 hours",
            event_count(EventType.LOGIN_FAILED),
            list_url("events", [("event_type", EventType.LOGIN_FAILED), since(day)]),
            "Look for many failures for one e-mail (brute force), from one IP, or across many accounts.",
        ),
        ReviewItem(
            "IP addresses with failed logins in the last 24 hours",
            failed_ips,
            insights_day,
            "Unusual addresses: compare with the top failing IPs on the Insights page.",
        ),
        ReviewItem(
            "Accounts locked in the last 24 hours",
            event_count(EventType.ACCOUNT_LOCKED),
            list_url("events", [("event_type", EventType.ACCOUNT_LOCKED), since(day)]),
        ),
        ReviewItem(
            "Failed MFA attempts in the last 24 hours",
            event_count(EventType.MFA_FAILED),
            list_url("events", [("event_type", EventType.MFA_FAILED), since(day)]),
            "MFA bypass attempts: failed MFA followed by a login without MFA shows on the Insights page.",
        ),
        ReviewItem(
            "Active sessions",
            sessions.filter(status=AccessStatus.ACTIVE).count(),
            list_url("sessions", [("status", AccessStatus.ACTIVE), ("preset", "all")]),
            "Suspicious activity: unknown clients, many sessions for one user.",
        ),
    ]

    privileged = []
    for rtype in HIGH_PRIVILEGE:
        n = audit.filter(action__endswith=f" {rtype.value}", timestamp__gte=week).count()
        privileged.append((rtype.label, n, list_url("audit", [("action", rtype.value), since(week)])))
    trims = jobs.filter(job_type=JobType.TRIM, created_at__gte=week)
    failed_trims = trims.filter(latest_status=JobStatus.FAILED).count()
    bad = (NotificationStatus.FAILED, NotificationStatus.BOUNCED)
    failed_resets = mails.filter(category=Category.PASSWORD_RESET, status__in=bad, timestamp__gte=week).count()
    weekly = [
        ReviewItem(
            "High-privilege changes this week",
            sum(n for _, n, _ in privileged),
            list_url("audit", [since(week)]),
            "Identity providers, roles, permissions, secrets, certificates and tenant settings.",
            parts=privileged,
        ),
        ReviewItem(
            "Failed trim jobs this week",
            failed_trims,
            list_url("jobs", [("job_type", JobType.TRIM), ("latest_status", JobStatus.FAILED), since(week)]),
            f"{trims.filter(latest_status=JobStatus.SUCCESS).count():,} trim runs succeeded this week.",
            attention=failed_trims > 0,
        ),
        ReviewItem(
            "Failed or bounced password-reset e-mails this week",
            failed_resets,
            list_url(
                "notifications",
                [("category", Category.PASSWORD_RESET), *(("status", s) for s in bad), since(week)],
            ),
            "A social-engineering indicator.",
            attention=failed_resets > 0,
        ),
        ReviewItem(
            "Exports made this week",
            audit.filter(action__startswith="export ", timestamp__gte=week).count(),
            list_url("audit", [("action", "export"), since(week)]),
            "Export the week's logs for the archive from each page's export button.",
        ),
    ]

    mail_month = mails.filter(timestamp__gte=month)
    mail_total = mail_month.count()
    mail_bad = mail_month.filter(status__in=bad).count()
    old_sessions = sessions.filter(status=AccessStatus.ACTIVE, created_at__lt=month).count()
    stale_grants = grants.filter(status=AccessStatus.ACTIVE, created_at__lt=now - dt.timedelta(days=90)).count()
    monthly = [
        ReviewItem(
            "Audit log records in the last 30 days",
            audit.filter(timestamp__gte=month).count(),
            list_url("audit", [since(month)]),
            "Comprehensive review of administrative changes.",
        ),
        ReviewItem(
            "Active grants created more than 90 days ago",
            stale_grants,
            list_url("grants", [("status", AccessStatus.ACTIVE), before(now - dt.timedelta(days=90))]),
            "Grants carry no last-used time, so age is the measure: review them for unused applications.",
            attention=stale_grants > 0,
        ),
        ReviewItem(
            "Applications with active grants",
            grants.filter(status=AccessStatus.ACTIVE).values("client").distinct().count(),
            list_url("grants", [("status", AccessStatus.ACTIVE), ("preset", "all")]),
        ),
        ReviewItem(
            "Active sessions older than 30 days",
            old_sessions,
            list_url("sessions", [("status", AccessStatus.ACTIVE), before(month)]),
            "Revoke old sessions.",
            attention=old_sessions > 0,
        ),
        ReviewItem(
            "Failed or bounced e-mails in the last 30 days",
            mail_bad,
            list_url("notifications", [*(("status", s) for s in bad), since(month)]),
            f"{mail_bad / mail_total:.1%} of {mail_total:,} e-mails." if mail_total else "No e-mails.",
            attention=bool(mail_total) and mail_bad / mail_total > 0.05,
        ),
    ]

    notes = {cadence: None for cadence in ReviewCadence}
    for cadence in ReviewCadence:
        notes[cadence] = ReviewNote.objects.for_tenant(tenant).filter(cadence=cadence).first()
    sections = []
    for cadence, title, period, items in (
        (ReviewCadence.DAILY, "Daily", "the last 24 hours", daily),
        (ReviewCadence.WEEKLY, "Weekly", "the last 7 days", weekly),
        (ReviewCadence.MONTHLY, "Monthly", "the last 30 days", monthly),
    ):
        note = notes[cadence]
        due = note is None or now - note.created_at >= dt.timedelta(days=CADENCE_DAYS[cadence])
        sections.append(ReviewSection(cadence, title, period, items, note, due))
    return sections

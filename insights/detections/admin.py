"""Detections over the audit trail of administrative changes: many deletions by one actor in a few minutes, and
changes made outside the tenant's business hours.
"""

from __future__ import annotations

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate

from audit.models import AuditLog
from insights.detections.base import Finding, Param, Scope, detection
from insights.detections.text import time_text
from insights.detections.windows import find_bursts
from insights.models import Detection, Severity

CHANGE_VERBS = ("create", "update", "delete", "enable", "disable")


@detection(
    Detection.BULK_DELETION,
    severity=Severity.HIGH,
    kind="audit",
    description="Many delete actions by one actor within a few minutes.",
    params=(
        Param("deletions", "Deletions, at least", 10, 2),
        Param("window_minutes", "Within (minutes)", 10, 1, 24 * 60),
    ),
)
def bulk_deletion(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    found = []
    for burst in find_bursts(
        scope.records(AuditLog, "timestamp").filter(action__startswith="delete "),
        key="actor",
        time_field="timestamp",
        window=scope.minutes("window_minutes"),
        min_rows=p["deletions"],
        extra=("action",),
        limit=scope.limit,
    ):
        actions = burst.values("action")
        found.append(
            scope.finding(
                key={"actor": burst.value},
                title=f"{burst.count} deletions by {burst.value}",
                summary=f"Up to {burst.peak} delete actions within {p['window_minutes']} minutes, between "
                f"{time_text(burst.first, tz)} and {time_text(burst.last, tz)}: "
                + ", ".join(f"{n} × {a.removeprefix('delete ')}" for a, n in actions.most_common(4))
                + ".",
                count=burst.count,
                first=burst.first,
                last=burst.last,
                evidence=scope.evidence("audit", burst.first, burst.last, actor=burst.value, action="delete"),
            )
        )
    return found


@detection(
    Detection.AFTER_HOURS_ADMIN,
    severity=Severity.MEDIUM,
    kind="audit",
    description="Administrative changes outside business hours in the tenant's time zone.",
    params=(
        Param("day_start_hour", "Business hours start at (hour)", 7, 0, 23),
        Param("day_end_hour", "Business hours end at (hour)", 19, 1, 24),
        Param("weekends", "Weekends are outside business hours", 1, boolean=True),
        Param("changes", "Changes by one actor in one day, at least", 1, 1),
    ),
)
def after_hours_admin(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    is_change = Q()
    for verb in CHANGE_VERBS:
        is_change |= Q(action__startswith=f"{verb} ")
    outside = Q(_hour__lt=p["day_start_hour"]) | Q(_hour__gte=p["day_end_hour"])
    if p["weekends"]:
        outside |= Q(_weekday__gte=6)
    groups = list(
        scope.records(AuditLog, "timestamp")
        .filter(is_change)
        .exclude(actor="")
        .annotate(
            _hour=ExtractHour("timestamp", tzinfo=tz),
            _weekday=ExtractIsoWeekDay("timestamp", tzinfo=tz),
            _day=TruncDate("timestamp", tzinfo=tz),
        )
        .filter(outside)
        .values("actor", "_day")
        .annotate(n=Count("pk"), first=Min("timestamp"), last=Max("timestamp"))
        .filter(n__gte=p["changes"])
        .order_by("-_day", "-n", "actor")[: scope.limit]
    )
    hours = f"{p['day_start_hour']:02d}:00–{p['day_end_hour']:02d}:00"
    return [
        scope.finding(
            key={"actor": g["actor"], "day": g["_day"].isoformat()},
            title=f"{g['n']} after-hours change{'s' if g['n'] > 1 else ''} by {g['actor']} on {g['_day']:%a %Y-%m-%d}",
            summary=f"Changes between {time_text(g['first'], tz)} and {time_text(g['last'], tz)} "
            f"({scope.tenant.timezone}), outside business hours {hours}" + (" on weekdays." if p["weekends"] else "."),
            count=g["n"],
            first=g["first"],
            last=g["last"],
            evidence=scope.evidence("audit", g["first"], g["last"], actor=g["actor"]),
        )
        for g in groups
    ]

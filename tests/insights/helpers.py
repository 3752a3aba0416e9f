"""Small builders for the insights tests: records at chosen times, and one detection run over a fixed period."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.http import QueryDict

from audit.models import AuditLog
from authmon import registry
from authmon.selectors import log_search
from events.models import EventLog
from insights import detections
from insights.detections import Finding, Scope
from jobs.models import JobLog
from notifications.models import NotificationLog
from sessions_grants.models import Session

# A Tuesday, in winter (Europe/Berlin is UTC+1).
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> dt.datetime:
    """``NOW`` minus the given time."""
    return NOW - dt.timedelta(minutes=minutes, hours=hours, days=days)


def event(tenant: Any, event_type: str, when: dt.datetime, *, email: str = "victim@example.com", **fields: Any):
    values = {"ip_address": "198.51.100.7", "user_agent": "Mozilla/5.0 Firefox/125.0", "client_name": "auth ui"}
    values.update(fields)
    return EventLog.objects.create(tenant=tenant, event_type=event_type, created_on=when, email=email, **values)


def audit(tenant: Any, action: str, when: dt.datetime, *, actor: str = "admin@example.com", target: str = "x"):
    return AuditLog.objects.create(
        tenant=tenant, action=action, timestamp=when, actor=actor, target=target, old_entity={}, new_entity={"a": 1}
    )


def job(tenant: Any, name: str, when: dt.datetime, *, status: str = "failed", job_type: str = "trim"):
    return JobLog.objects.create(
        tenant=tenant,
        job_id=f"{name}-{when.timestamp()}",
        job_name=name,
        job_type=job_type,
        latest_status=status,
        created_at=when,
        updated_at=when,
        message="boom" if status == "failed" else "ok",
    )


def mail(tenant: Any, recipient: str, when: dt.datetime, *, category: str = "password_reset", status: str = "failed"):
    return NotificationLog.objects.create(
        tenant=tenant, subject="Password reset", recipient=recipient, timestamp=when, status=status, category=category
    )


def session(
    tenant: Any,
    when: dt.datetime,
    ip: str | None,
    *,
    email: str = "victim@example.com",
    hours: float = 12,
    revoked: dt.datetime | None = None,
) -> Session:
    details = {"ip_address": ip} if ip else {}
    row = Session.objects.create(
        tenant=tenant,
        session_id=f"s-{email}-{when.timestamp()}-{ip}",
        protocol="OIDC",
        email=email,
        user_id="42",
        created_at=when,
        expires_at=when + dt.timedelta(hours=hours),
        status="revoked" if revoked else "active",
        details=details,
    )
    if revoked:
        Session.objects.filter(pk=row.pk).update(revoked_at=revoked)
    return row


def run(
    tenant: Any, name: str, *, start: dt.datetime | None = None, end: dt.datetime = NOW, **overrides: int
) -> list[Finding]:
    """Run one detection over ``[start, end)`` (default: the week before ``NOW``) with threshold overrides."""
    spec = detections.get(name)
    params = spec.thresholds(overrides)
    assert params == {**spec.defaults, **overrides}, "an override was out of bounds"
    scope = Scope(tenant=tenant, start=start or NOW - dt.timedelta(days=7), end=end, params=params, detection=spec)
    return spec.run(scope)


def evidence_rows(finding: Finding, user: Any) -> int:
    """How many rows the finding's evidence link lists for ``user`` (through the list page's own search)."""
    parts = urlsplit(finding.evidence_url)
    kind = registry.get(parts.path.strip("/").split("/")[1])
    search = log_search(kind, user, QueryDict(parts.query))
    assert not search.errors, search.errors
    return search.queryset.count()

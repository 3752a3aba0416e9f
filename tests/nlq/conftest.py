"""Helpers for the NLQ tests: the six field maps by API name and a fixed now."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from audit.nlq_fields import AUDIT_FIELDS
from events.nlq_fields import EVENT_FIELDS
from jobs.nlq_fields import JOB_FIELDS
from nlq import FieldMap, Interpretation, interpret
from notifications.nlq_fields import NOTIFICATION_FIELDS
from sessions_grants.nlq_fields import GRANT_FIELDS, SESSION_FIELDS

MAPS: dict[str, FieldMap] = {
    "audit": AUDIT_FIELDS,
    "events": EVENT_FIELDS,
    "jobs": JOB_FIELDS,
    "notifications": NOTIFICATION_FIELDS,
    "sessions": SESSION_FIELDS,
    "grants": GRANT_FIELDS,
}

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
#: Thursday 26 November 2026, 15:30 in Berlin.
NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)


def ask(kind: str, text: str, *, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> Interpretation:
    return interpret(text, MAPS[kind], now=now, tz=tz)


def local(tz: ZoneInfo, *args: int) -> datetime:
    """An aware datetime on ``tz``'s wall clock, in UTC."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]

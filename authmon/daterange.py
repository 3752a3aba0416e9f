"""Date-range presets and custom ranges, computed in the tenant's time zone as half-open ``[start, end)``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime

PRESETS: dict[str, str] = {
    "last24h": "Last 24 hours",
    "today": "Today",
    "yesterday": "Yesterday",
    "last7": "Last 7 days",
    "last30": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "all": "All time",
}
DEFAULT_PRESET = "last7"


@dataclass(frozen=True)
class DateRange:
    start: dt.datetime | None
    end: dt.datetime | None
    label: str
    preset: str | None  # None for a custom range

    @property
    def is_bounded(self) -> bool:
        return self.start is not None or self.end is not None


class DateRangeError(ValueError):
    """A start or end the user typed that cannot be read, or an end before the start."""


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def preset_range(preset: str, *, now: dt.datetime, tz: ZoneInfo) -> DateRange:
    """Resolve a preset against ``now`` in ``tz``. Calendar presets start at the tenant's local midnight."""
    if preset not in PRESETS:
        raise DateRangeError(f"Unknown date preset '{preset}'. Choose one of: {', '.join(PRESETS)}.")
    local = now.astimezone(tz)
    today = local.date()
    label = PRESETS[preset]
    if preset == "all":
        return DateRange(None, None, label, preset)
    if preset == "today":
        return DateRange(_midnight(today, tz), None, label, preset)
    if preset == "yesterday":
        return DateRange(_midnight(today - dt.timedelta(days=1), tz), _midnight(today, tz), label, preset)
    if preset == "last24h":
        return DateRange(now - dt.timedelta(hours=24), None, label, preset)
    if preset == "last7":
        return DateRange(now - dt.timedelta(days=7), None, label, preset)
    if preset == "last30":
        return DateRange(now - dt.timedelta(days=30), None, label, preset)
    first = today.replace(day=1)
    if preset == "this_month":
        return DateRange(_midnight(first, tz), None, label, preset)
    previous_first = (first - dt.timedelta(days=1)).replace(day=1)
    return DateRange(_midnight(previous_first, tz), _midnight(first, tz), label, preset)


def parse_bound(text: str, *, tz: ZoneInfo, is_end: bool) -> dt.datetime:
    """Read an ISO date or datetime. A bare end date includes that whole day (DESIGN section 6b).

    A bare date is tried first: Python 3.11's ``fromisoformat`` (under ``parse_datetime``) reads "2026-11-20" as
    that day's midnight, which would make an end date exclude its own day. A moment whose UTC form falls outside the
    years 1 to 9999 is refused like any other unreadable bound, never an overflow further down.
    """
    text = text.strip()
    which = "end" if is_end else "start"
    try:
        day = parse_date(text) if "T" not in text and " " not in text else None
        moment = None if day else parse_datetime(text)
    except ValueError:  # well-formed but impossible, such as 2026-02-30
        day = moment = None
    if moment is None and day is None:
        raise DateRangeError(f"The {which} date '{text[:40]}' is not a date. Use YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
    try:
        if moment is not None:
            bound = moment if moment.tzinfo else moment.replace(tzinfo=tz)
        else:
            bound = _midnight(day + dt.timedelta(days=1) if is_end else day, tz)
        bound.astimezone(dt.UTC).astimezone(tz)  # both forms must exist: the database and the label use them
    except OverflowError:
        raise DateRangeError(
            f"The {which} date '{text[:40]}' is out of range. Use a date between the years 1 and 9999."
        ) from None
    return bound


def custom_range(start: str, end: str, *, tz: ZoneInfo) -> DateRange:
    lo = parse_bound(start, tz=tz, is_end=False) if start else None
    hi = parse_bound(end, tz=tz, is_end=True) if end else None
    if lo and hi and hi <= lo:
        raise DateRangeError("The end date is before the start date.")
    fmt = "%Y-%m-%d %H:%M"
    first = lo.astimezone(tz).strftime(fmt) if lo else "the beginning"
    last = hi.astimezone(tz).strftime(fmt) if hi else "now"
    label = f"{first} – {last}"
    return DateRange(lo, hi, label, None)

"""Resolving time phrases into bounds, from an injected ``now`` and the tenant's time zone.

Calendar phrases (today, last week, Nov 3, two days ago) are whole days, weeks, months or years of the tenant's
wall clock, so on a daylight-saving day "yesterday" is 23 or 25 hours long. Rolling windows (in the last 24
hours, older than 1 hour) are computed on the UTC time line, so no clock change shifts them. Every interval is
half-open: [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]

from nlq.errors import NLQError
from nlq.ir import Ago, AtTime, Calendar, Duration, Named, OnDate, Point, TimeCondition, TimeOp, Unit


@dataclass(frozen=True)
class Span:
    """What a point covers: [start, end), or the instant ``start`` when ``instant``."""

    start: datetime
    end: datetime
    instant: bool
    kind: str  # "calendar week", "that hour", "exact time", ...


@dataclass(frozen=True)
class Bounds:
    """The resolved condition: lower and upper bounds (None = open) and what they came from."""

    lower: datetime | None
    upper: datetime | None
    lower_inclusive: bool = True
    upper_inclusive: bool = False
    upper_is_now: bool = False
    kind: str = ""

    @property
    def exact(self) -> bool:
        """An instant: the field equals ``lower``."""
        return self.lower is not None and self.lower == self.upper and self.upper_inclusive


class Clock:
    """``now`` (aware) and the tenant's zone; resolves points and time conditions."""

    def __init__(self, now: datetime, tz: ZoneInfo) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        self.now = now.astimezone(UTC)
        self.tz = tz
        self.local_now = self.now.astimezone(tz)
        self.today = self.local_now.date()

    # ---- building blocks --------------------------------------------------------------------------------

    def midnight(self, day: date) -> datetime:
        """Start of ``day`` on the tenant's wall clock, in UTC."""
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)

    def day_span(self, day: date, kind: str) -> Span:
        return Span(self.midnight(day), self.midnight(day + timedelta(days=1)), False, kind)

    def _floor(self, instant: datetime, unit: Unit) -> datetime:
        """``instant`` floored to its wall-clock hour or minute, in UTC."""
        local = instant.astimezone(self.tz)
        if unit == Unit.HOUR:
            local = local.replace(minute=0, second=0, microsecond=0)
        else:
            local = local.replace(second=0, microsecond=0)
        return local.astimezone(UTC)

    # ---- points ---------------------------------------------------------------------------------------

    def point(self, p: Point) -> Span:
        """The span a point covers."""
        if isinstance(p, Named):
            if p.name == "now":
                return Span(self.now, self.now, True, "now")
            offset = 0 if p.name == "today" else -1
            return self.day_span(self.today + timedelta(days=offset), "calendar day")
        if isinstance(p, Calendar):
            return self._calendar(p)
        if isinstance(p, Ago):
            return self._ago(p)
        if isinstance(p, OnDate):
            return self.day_span(self._date(p), "calendar day")
        if isinstance(p, AtTime):
            moment = datetime.fromisoformat(p.iso)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.tz)
            moment = moment.astimezone(UTC)
            return Span(moment, moment, True, "exact time")
        back = (self.today.weekday() - p.day) % 7
        if p.last and back == 0:
            back = 7
        return self.day_span(self.today - timedelta(days=back), "calendar day")

    def _calendar(self, p: Calendar) -> Span:
        unit, offset = p.unit, p.offset
        if unit in {Unit.HOUR, Unit.MINUTE}:
            step = timedelta(hours=1) if unit == Unit.HOUR else timedelta(minutes=1)
            start = self._floor(self.now, unit) + offset * step
            return Span(start, start + step, False, f"clock {unit.value}")
        if unit == Unit.DAY:
            return self.day_span(self.today + timedelta(days=offset), "calendar day")
        if unit == Unit.WEEK:
            monday = self.today - timedelta(days=self.today.weekday()) + timedelta(weeks=offset)
            first, after = monday, monday + timedelta(weeks=1)
        elif unit == Unit.MONTH:
            first = self.today.replace(day=1) + relativedelta(months=offset)
            after = first + relativedelta(months=1)
        else:
            first = date(self.today.year + offset, 1, 1)
            after = date(first.year + 1, 1, 1)
        return Span(self.midnight(first), self.midnight(after), False, f"calendar {unit.value}")

    def _ago(self, p: Ago) -> Span:
        if p.unit in {Unit.HOUR, Unit.MINUTE}:
            step = timedelta(hours=1) if p.unit == Unit.HOUR else timedelta(minutes=1)
            start = self._floor(self.now - p.n * step, p.unit)
            return Span(start, start + step, False, f"that {p.unit.value}")
        delta = {
            Unit.DAY: relativedelta(days=p.n),
            Unit.WEEK: relativedelta(weeks=p.n),
            Unit.MONTH: relativedelta(months=p.n),
            Unit.YEAR: relativedelta(years=p.n),
        }[p.unit]
        return self.day_span(self.today - delta, "that calendar day")

    def _date(self, p: OnDate) -> date:
        if p.year is not None:
            return date(p.year, p.month, p.day)
        year = self.today.year
        for _ in range(9):  # Feb 29 may be up to eight years back
            try:
                candidate = date(year, p.month, p.day)
            except ValueError:
                year -= 1
                continue
            if candidate <= self.today:
                return candidate
            year -= 1
        raise ValueError(f"no recent {p.month}-{p.day}")

    def rolling_start(self, d: Duration) -> datetime:
        """``now`` minus the duration, on the UTC time line."""
        delta = {
            Unit.MINUTE: relativedelta(minutes=d.n),
            Unit.HOUR: relativedelta(hours=d.n),
            Unit.DAY: relativedelta(days=d.n),
            Unit.WEEK: relativedelta(weeks=d.n),
            Unit.MONTH: relativedelta(months=d.n),
            Unit.YEAR: relativedelta(years=d.n),
        }[d.unit]
        start: datetime = self.now - delta
        return start

    # ---- conditions -----------------------------------------------------------------------------------

    def bounds(self, tc: TimeCondition) -> Bounds:
        """The bounds of a time condition. Raises NLQError for a time too far away or a reversed between."""
        try:
            return self._bounds(tc)
        except (OverflowError, ValueError):
            raise NLQError(
                "That time is too far from today to look up.", tc.position, expected="a time within a few centuries"
            ) from None

    def _bounds(self, tc: TimeCondition) -> Bounds:
        first = tc.first
        if isinstance(first, Duration):
            start = self.rolling_start(first)
            if tc.op == TimeOp.OLDER:
                return Bounds(None, start, kind="rolling")
            return Bounds(start, self.now, upper_is_now=True, kind="rolling window")
        span = self.point(first)
        if tc.op == TimeOp.WITHIN:
            if span.instant:
                return Bounds(span.start, span.start, upper_inclusive=True, kind=span.kind)
            return Bounds(span.start, span.end, kind=span.kind)
        if tc.op == TimeOp.SINCE:
            return Bounds(span.start, None, kind=span.kind)
        if tc.op == TimeOp.AFTER:
            return Bounds(span.end, None, lower_inclusive=not span.instant, kind=span.kind)
        if tc.op == TimeOp.BEFORE:
            return Bounds(None, span.start, kind=span.kind)
        if tc.op == TimeOp.UNTIL:
            return Bounds(None, span.end, upper_inclusive=span.instant, kind=span.kind)
        assert tc.op == TimeOp.BETWEEN and tc.second is not None
        second = self.point(tc.second)
        if second.end <= span.start:
            raise NLQError(
                "In 'between X and Y' the first time must come before the second.",
                tc.position,
                expected="the earlier time first",
            )
        return Bounds(span.start, second.end, kind="between")

"""Time phrases resolve to half-open intervals from an injected now, on the tenant's wall clock (no database).

Calendar phrases follow the tenant's clock (a daylight-saving day is 23 or 25 hours long); rolling windows are
exact durations on the UTC time line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from nlq.ir import TimeCondition
from nlq.timeres import Bounds, Clock

from .conftest import BERLIN, NEW_YORK, NOW, ask, local

UTC_ZONE = ZoneInfo("UTC")


def bounds(text: str, *, now: datetime = NOW, tz: ZoneInfo = BERLIN, kind: str = "events") -> Bounds:
    node = ask(kind, text, now=now, tz=tz).node
    assert isinstance(node, TimeCondition), node
    return Clock(now, tz).bounds(node)


def interval(text: str, **kwargs: object) -> tuple[datetime | None, datetime | None]:
    b = bounds(text, **kwargs)  # type: ignore[arg-type]
    return b.lower, b.upper


# NOW is Thursday 26 November 2026, 15:30 in Berlin (UTC+1).
B = lambda *a: local(BERLIN, *a)  # noqa: E731

CALENDAR = [
    ("today", B(2026, 11, 26), B(2026, 11, 27)),
    ("yesterday", B(2026, 11, 25), B(2026, 11, 26)),
    ("this week", B(2026, 11, 23), B(2026, 11, 30)),
    ("last week", B(2026, 11, 16), B(2026, 11, 23)),
    ("previous week", B(2026, 11, 16), B(2026, 11, 23)),
    ("this month", B(2026, 11, 1), B(2026, 12, 1)),
    ("last month", B(2026, 10, 1), B(2026, 11, 1)),
    ("this year", B(2026, 1, 1), B(2027, 1, 1)),
    ("last year", B(2025, 1, 1), B(2026, 1, 1)),
    ("two days ago", B(2026, 11, 24), B(2026, 11, 25)),
    ("one week ago", B(2026, 11, 19), B(2026, 11, 20)),
    ("a month ago", B(2026, 10, 26), B(2026, 10, 27)),
    ("1 year ago", B(2025, 11, 26), B(2025, 11, 27)),
    ("3 hours ago", B(2026, 11, 26, 12), B(2026, 11, 26, 13)),
    ("an hour ago", B(2026, 11, 26, 14), B(2026, 11, 26, 15)),
    ("5 minutes ago", B(2026, 11, 26, 15, 25), B(2026, 11, 26, 15, 26)),
    ("this hour", B(2026, 11, 26, 15), B(2026, 11, 26, 16)),
    ("last hour", B(2026, 11, 26, 14), B(2026, 11, 26, 15)),
    ("on Nov 3", B(2026, 11, 3), B(2026, 11, 4)),
    ("on Dec 3", B(2025, 12, 3), B(2025, 12, 4)),  # no year: the most recent Dec 3 not after today
    ("on 3 November 2026", B(2026, 11, 3), B(2026, 11, 4)),
    ("on November 3rd, 2025", B(2025, 11, 3), B(2025, 11, 4)),
    ("on 2026-11-03", B(2026, 11, 3), B(2026, 11, 4)),
    ("on Feb 29", B(2024, 2, 29), B(2024, 3, 1)),
    ("monday", B(2026, 11, 23), B(2026, 11, 24)),
    ("thursday", B(2026, 11, 26), B(2026, 11, 27)),
    ("last thursday", B(2026, 11, 19), B(2026, 11, 20)),
    ("between Nov 1 and Nov 3", B(2026, 11, 1), B(2026, 11, 4)),
    ("from Nov 1 to Nov 3", B(2026, 11, 1), B(2026, 11, 4)),
    ("between last week and yesterday", B(2026, 11, 16), B(2026, 11, 26)),
    ("between 2026-11-20T08:00 and 2026-11-20T18:00", B(2026, 11, 20, 8), B(2026, 11, 20, 18)),
]


@pytest.mark.parametrize(("phrase", "start", "end"), CALENDAR, ids=[c[0] for c in CALENDAR])
def test_calendar_phrases(phrase: str, start: datetime, end: datetime) -> None:
    b = bounds(phrase)
    assert (b.lower, b.upper) == (start, end)
    assert b.lower_inclusive and not b.upper_inclusive


ROLLING = [
    ("in the last 7 days", timedelta(days=7)),
    ("in the last 24 hours", timedelta(hours=24)),
    ("in the past 24 hours", timedelta(hours=24)),
    ("in the last 24h", timedelta(hours=24)),
    ("within the last 15 minutes", timedelta(minutes=15)),
    ("past week", timedelta(weeks=1)),
    ("in the last week", timedelta(weeks=1)),
    ("last 3 days", timedelta(days=3)),
    ("less than 2 days ago", timedelta(days=2)),
]


@pytest.mark.parametrize(("phrase", "length"), ROLLING, ids=[r[0] for r in ROLLING])
def test_rolling_windows_end_now(phrase: str, length: timedelta) -> None:
    b = bounds(phrase)
    assert (b.lower, b.upper) == (NOW - length, NOW)
    assert b.upper_is_now


def test_rolling_months_count_back_on_the_utc_calendar() -> None:
    assert interval("in the last 3 months") == (datetime(2026, 8, 26, 14, 30, tzinfo=UTC), NOW)


@pytest.mark.parametrize(
    ("phrase", "upper"),
    [
        ("older than 1 hour", NOW - timedelta(hours=1)),
        ("older than an hour", NOW - timedelta(hours=1)),
        ("more than 2 days ago", NOW - timedelta(days=2)),
        ("over 30 minutes ago", NOW - timedelta(minutes=30)),
        ("at least 1 week ago", NOW - timedelta(weeks=1)),
    ],
)
def test_older_than(phrase: str, upper: datetime) -> None:
    b = bounds(phrase)
    assert (b.lower, b.upper, b.upper_inclusive) == (None, upper, False)


def test_open_ended_phrases() -> None:
    assert interval("since yesterday") == (B(2026, 11, 25), None)
    assert interval("since Nov 3") == (B(2026, 11, 3), None)
    assert interval("after yesterday") == (B(2026, 11, 26), None)  # after the whole day
    assert interval("before yesterday") == (None, B(2026, 11, 25))
    assert interval("until Nov 3") == (None, B(2026, 11, 3))
    assert interval("created on <= yesterday") == (None, B(2026, 11, 26))
    assert interval("created on >= yesterday") == (B(2026, 11, 25), None)
    assert interval("created on > yesterday") == (B(2026, 11, 26), None)
    assert interval("created on < yesterday") == (None, B(2026, 11, 25))


def test_instants() -> None:
    exact = bounds("created on is 2026-11-03T10:00")
    assert exact.exact and exact.lower == B(2026, 11, 3, 10)
    assert ask("events", "created on is 2026-11-03T10:00").q == Q(created_on=B(2026, 11, 3, 10))
    after = bounds("after 2026-11-03T10:00:00Z")
    assert (after.lower, after.lower_inclusive) == (datetime(2026, 11, 3, 10, tzinfo=UTC), False)
    assert interval("since 2026-11-03T10:00+05:00") == (datetime(2026, 11, 3, 5, tzinfo=UTC), None)
    assert interval("since 2026-11-03 10:00") == (B(2026, 11, 3, 10), None)


def test_compiled_q_is_half_open() -> None:
    result = ask("events", "yesterday")
    assert result.q == Q(created_on__gte=B(2026, 11, 25)) & Q(created_on__lt=B(2026, 11, 26))
    older = ask("jobs", "older than 1 hour")
    assert older.q == Q(created_at__lt=NOW - timedelta(hours=1))


def test_a_named_time_field_is_used_instead_of_the_default() -> None:
    result = ask("jobs", "updated at is yesterday")
    assert result.q == Q(updated_at__gte=B(2026, 11, 25)) & Q(updated_at__lt=B(2026, 11, 26))
    assert ask("sessions", "expires at before now").q == Q(expires_at__lt=NOW)


def test_the_year_of_a_yearless_date_is_the_most_recent_one() -> None:
    january = datetime(2027, 1, 10, 12, tzinfo=UTC)
    assert interval("on Nov 3", now=january) == (B(2026, 11, 3), B(2026, 11, 4))
    assert interval("on Jan 10", now=january) == (B(2027, 1, 10), B(2027, 1, 11))
    assert interval("on Jan 11", now=january) == (B(2026, 1, 11), B(2026, 1, 12))


# ---- daylight saving time ---------------------------------------------------------------------------------
# New York falls back on Sunday 1 November 2026 (02:00 EDT -> 01:00 EST) and springs forward on Sunday 8 March
# 2026 (02:00 EST -> 03:00 EDT). Berlin falls back on Sunday 25 October 2026.

NY = lambda *a: local(NEW_YORK, *a)  # noqa: E731
AFTER_FALL_BACK = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # Monday 2 Nov, 12:00 EST


def test_fall_back_day_is_25_hours_long() -> None:
    lower, upper = interval("yesterday", now=AFTER_FALL_BACK, tz=NEW_YORK)
    assert (lower, upper) == (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 5, tzinfo=UTC))
    assert upper - lower == timedelta(hours=25)  # type: ignore[operator]


def test_rolling_window_across_fall_back_is_exactly_24_hours() -> None:
    lower, upper = interval("in the last 24 hours", now=AFTER_FALL_BACK, tz=NEW_YORK)
    assert upper - lower == timedelta(hours=24)  # type: ignore[operator]
    assert lower == datetime(2026, 11, 1, 17, tzinfo=UTC)
    lower, _ = interval("in the last 2 days", now=AFTER_FALL_BACK, tz=NEW_YORK)
    assert lower == AFTER_FALL_BACK - timedelta(hours=48)


def test_last_week_across_fall_back() -> None:
    assert interval("last week", now=AFTER_FALL_BACK, tz=NEW_YORK) == (NY(2026, 10, 26), NY(2026, 11, 2))
    assert NY(2026, 10, 26) == datetime(2026, 10, 26, 4, tzinfo=UTC)  # EDT
    assert NY(2026, 11, 2) == datetime(2026, 11, 2, 5, tzinfo=UTC)  # EST


def test_hours_ago_during_the_repeated_hour() -> None:
    second_one_thirty = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the second 01:30 of the day
    # One hour earlier was 01:30 EDT: that hour is 01:00-02:00 EDT = 05:00-06:00 UTC.
    assert interval("1 hour ago", now=second_one_thirty, tz=NEW_YORK) == (
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    )
    assert interval("this hour", now=second_one_thirty, tz=NEW_YORK) == (
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 11, 1, 7, tzinfo=UTC),
    )
    assert interval("today", now=second_one_thirty, tz=NEW_YORK) == (NY(2026, 11, 1), NY(2026, 11, 2))


def test_spring_forward_day_is_23_hours_long() -> None:
    now = datetime(2026, 3, 9, 16, tzinfo=UTC)  # Monday 9 March, 12:00 EDT
    lower, upper = interval("yesterday", now=now, tz=NEW_YORK)
    assert (lower, upper) == (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))
    assert interval("in the last 24 hours", now=now, tz=NEW_YORK) == (now - timedelta(hours=24), now)
    assert interval("3 hours ago", now=now, tz=NEW_YORK) == (NY(2026, 3, 9, 9), NY(2026, 3, 9, 10))


def test_berlin_fall_back_week() -> None:
    now = datetime(2026, 10, 28, 9, tzinfo=UTC)  # Wednesday 28 October
    lower, upper = interval("last week", now=now, tz=BERLIN)
    assert (lower, upper) == (B(2026, 10, 19), B(2026, 10, 26))
    assert upper - lower == timedelta(days=7, hours=1)  # type: ignore[operator]
    assert interval("two days ago", now=now, tz=BERLIN) == (B(2026, 10, 26), B(2026, 10, 27))


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, UTC_ZONE, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe")])
def test_calendar_days_always_start_at_local_midnight(tz: ZoneInfo) -> None:
    for days in range(0, 400, 7):
        now = NOW - timedelta(days=days)
        lower, upper = interval("yesterday", now=now, tz=tz)
        assert lower is not None and upper is not None
        assert lower.astimezone(tz).time().hour == 0 and upper.astimezone(tz).time().hour == 0
        assert timedelta(hours=22) <= upper - lower <= timedelta(hours=25)


# ---- what the user sees -----------------------------------------------------------------------------------


def test_chips_show_the_resolved_interval_and_the_phrase() -> None:
    result = ask("events", "event type is login and created on is from last week")
    assert [c.text for c in result.chips] == [
        "event type = login",
        "created on: Mon 16 Nov 00:00 – Mon 23 Nov 00:00 (last week, calendar week)",
    ]
    assert [c.field for c in result.chips] == ["event_type", "created_on"]
    rolling = ask("events", "in the last 7 days")
    assert rolling.chips[0].text == "created on: Thu 19 Nov 15:30 – now (in the last 7 days, rolling window)"
    older = ask("jobs", "older than 1 hour")
    assert older.chips[0].text == "created at: before Thu 26 Nov 14:30 (older than 1 hour, rolling)"
    last_year = ask("events", "last year")
    assert last_year.chips[0].text == ("created on: Wed 1 Jan 2025 00:00 – Thu 1 Jan 00:00 (last year, calendar year)")


def test_summary_reads_the_interval_in_the_tenant_zone() -> None:
    result = ask("events", "the event type is login and the log was created in the last 7 days")
    assert result.summary == "event type is login AND created on is between 2026-11-19 15:30 and now"
    assert ask("events", "since Nov 3").summary == "created on is on or after 2026-11-03 00:00"
    assert ask("events", "before Nov 3").summary == "created on is before 2026-11-03 00:00"
    assert ask("events", "created on <= 2026-11-03T10:00").summary == "created on is on or before 2026-11-03 10:00"


def test_canonical_keeps_time_relative() -> None:
    result = ask("events", "logins from last week")
    assert result.canonical == "event type is login and created on is last week"
    tomorrow = NOW + timedelta(days=7)
    later = ask("events", result.canonical, now=tomorrow)
    assert later.node == result.node
    assert later.q != result.q  # same words, next week's interval

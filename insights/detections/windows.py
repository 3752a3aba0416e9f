"""Time windows over many rows, asked of the database so that detections stay fast on millions of records.

Each detection first asks an aggregate question over indexed columns (``GROUP BY`` key and time bucket ``HAVING
COUNT(*) >= n``), which returns a handful of candidates, and only then looks at those candidates' rows. Windowed rules
("10 failed logins within 10 minutes") bucket time into window-sized slices: a window spans at most two slices, so any
window holding ``n`` rows leaves at least ``n / 2`` in one slice, and ``HAVING >= ceil(n / 2)`` never misses one; the
exact sliding-window check then runs in Python over the few candidate rows (:func:`find_bursts`). Sequence rules ("a
login right after a password reset") are semi-joins (``EXISTS``) that probe the ``(tenant, email, time)`` index,
with the outer row's time shifted by :func:`outer_before` or :func:`outer_after`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, ExpressionWrapper, OuterRef, Q, QuerySet

from insights.detections.base import MAX_FINDINGS
from insights.sql import EpochBucket


def outer_before(name: str, delta: dt.timedelta) -> ExpressionWrapper:
    """The outer row's ``name`` minus ``delta``, for correlated subqueries."""
    return ExpressionWrapper(OuterRef(name) - delta, output_field=models.DateTimeField())


def outer_after(name: str, delta: dt.timedelta) -> ExpressionWrapper:
    """The outer row's ``name`` plus ``delta``, for correlated subqueries."""
    return ExpressionWrapper(OuterRef(name) + delta, output_field=models.DateTimeField())


@dataclass
class Burst:
    """The rows of one key that fall inside windows meeting a threshold, oldest first."""

    value: Any
    rows: list[dict[str, Any]]
    peak: int  # most rows inside one window
    peak_distinct: int  # most distinct values of the counted field inside one window
    time_field: str

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def first(self) -> dt.datetime:
        return self.rows[0][self.time_field]

    @property
    def last(self) -> dt.datetime:
        return self.rows[-1][self.time_field]

    def values(self, name: str) -> Counter:
        return Counter(row[name] for row in self.rows if row[name] not in (None, ""))


def find_bursts(
    qs: QuerySet,
    *,
    key: str,
    time_field: str,
    window: dt.timedelta,
    min_rows: int,
    distinct: str | None = None,
    min_distinct: int = 0,
    extra: tuple[str, ...] = (),
    limit: int = MAX_FINDINGS,
) -> list[Burst]:
    """Values of ``key`` with at least ``min_rows`` rows (and ``min_distinct`` distinct ``distinct`` values) inside
    one ``window``; at most ``limit`` of them, largest first.

    Stage one is one aggregate query over window-sized time buckets (see the module docstring for why it never
    misses a window); stage two fetches only the candidate buckets and their neighbours and slides the window.
    """
    seconds = max(60, int(window.total_seconds()))
    model_field = qs.model._meta.get_field(key)
    if model_field.null:
        qs = qs.filter(**{f"{key}__isnull": False})
    if isinstance(model_field, (models.CharField, models.TextField)):
        qs = qs.exclude(**{key: ""})
    # A window with D distinct values holds at least D rows, so counting rows is a sound filter for both
    # thresholds, and COUNT(*) aggregates by hashing where COUNT(DISTINCT) would have to sort.
    need = math.ceil(max(min_rows, min_distinct) / 2)
    candidates = (
        qs.annotate(_bucket=EpochBucket(time_field, seconds))
        .values(key, "_bucket")
        .annotate(_n=Count("*"))
        .filter(_n__gte=max(need, 1))
        .order_by("-_n", key, "_bucket")[: limit * 10]
    )
    buckets: dict[Any, set[int]] = defaultdict(set)
    for row in candidates:
        if row[key] in buckets or len(buckets) < limit:
            buckets[row[key]].add(row["_bucket"])
    if not buckets:
        return []

    # Each run of neighbouring buckets, widened by one bucket on each side, holds every window touching it.
    where = Q()
    for value, numbers in buckets.items():
        for low, high in _runs(sorted(numbers)):
            where |= Q(
                **{
                    key: value,
                    f"{time_field}__gte": _epoch((low - 1) * seconds),
                    f"{time_field}__lt": _epoch((high + 2) * seconds),
                }
            )
    columns = ["pk", time_field, key, *(c for c in (distinct, *extra) if c and c not in (key, time_field))]
    rows_by_key: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in qs.filter(where).order_by(key, time_field, "pk").values(*columns):
        rows_by_key[row[key]].append(row)

    bursts = []
    for value, rows in rows_by_key.items():
        burst = _slide(value, rows, time_field, window, min_rows, distinct, min_distinct)
        if burst is not None:
            bursts.append(burst)
    bursts.sort(key=lambda b: (-b.count, str(b.value)))
    return bursts[:limit]


def _runs(numbers: list[int]) -> Iterable[tuple[int, int]]:
    start = previous = numbers[0]
    for number in numbers[1:]:
        if number > previous + 1:
            yield start, previous
            start = number
        previous = number
    yield start, previous


def _epoch(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _slide(
    value: Any,
    rows: list[dict[str, Any]],
    time_field: str,
    window: dt.timedelta,
    min_rows: int,
    distinct: str | None,
    min_distinct: int,
) -> Burst | None:
    """Slide ``window`` over ``rows`` (oldest first) and keep every row of every window that meets the thresholds."""
    counts: Counter = Counter()
    kept: list[dict[str, Any]] = []
    kept_to = -1
    peak = peak_distinct = 0
    low = 0
    for high, row in enumerate(rows):
        if distinct:
            counts[row[distinct]] += 1
        while row[time_field] - rows[low][time_field] > window:
            if distinct:
                gone = rows[low][distinct]
                counts[gone] -= 1
                if not counts[gone]:
                    del counts[gone]
            low += 1
        size = high - low + 1
        spread = len(counts) if distinct else size
        if size >= min_rows and spread >= min_distinct:
            peak, peak_distinct = max(peak, size), max(peak_distinct, spread)
            kept.extend(rows[max(low, kept_to + 1) : high + 1])
            kept_to = high
    if not kept:
        return None
    return Burst(value=value, rows=kept, peak=peak, peak_distinct=peak_distinct, time_field=time_field)

"""Security detections: small rules over one tenant's records for a period, each with thresholds the tenant can tune.

Every detection is a function registered with :func:`detection`; it receives a :class:`Scope` (tenant, period and
the tenant's thresholds) and returns :class:`Finding` objects, each with a link to its evidence: the list page of
the record kind, filtered with DESIGN 6b's URL parameters to the rows that triggered it.

How they stay fast on millions of rows: each detection first asks the database an aggregate question over indexed
columns (``GROUP BY`` key and time bucket ``HAVING COUNT(*) >= n``), which returns a handful of candidates, and only
then looks at those candidates' rows. Windowed rules ("10 failed logins within 10 minutes") bucket time into
window-sized slices: a window spans at most two slices, so any window holding ``n`` rows leaves at least ``n / 2``
in one slice, and ``HAVING >= ceil(n / 2)`` never misses one; the exact sliding-window check then runs in Python
over the few candidate rows. Sequence rules ("a login right after a password reset") are semi-joins (``EXISTS``)
that probe the ``(tenant, email, time)`` index.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models import Count, Exists, ExpressionWrapper, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate

from audit.models import AuditLog
from authmon import registry
from authmon.models import Tenant
from events.models import EventLog, EventType
from insights.models import Detection, Severity
from insights.sql import EpochBucket
from jobs.models import JobLog, JobStatus
from nlq import MAX_LENGTH
from nlq.render import quote
from notifications.models import Category, NotificationLog, NotificationStatus
from sessions_grants.models import AccessStatus, Grant, RevocationKeptReport, Session

MAX_FINDINGS = 50  # per detection and period; the page says when there are more
SUCCESS_EVENTS = (
    EventType.LOGIN,
    EventType.SESSION_CREATED,
    EventType.TOKEN_REFRESHED,
    EventType.MFA_VERIFIED,
    EventType.LOGOUT,
)
CHANGE_VERBS = ("create", "update", "delete", "enable", "disable")


# --------------------------------------------------------------------------------------------------------------
# The framework: parameters, findings, scope and the registry
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A threshold a tenant can tune; ``boolean`` ones are 0 or 1 and shown as a checkbox."""

    name: str
    label: str
    default: int
    minimum: int = 1
    maximum: int = 100_000
    boolean: bool = False

    def clean(self, value: Any) -> int:
        """The value as a whole number within bounds; ``ValueError`` otherwise."""
        if isinstance(value, bool):
            value = int(value)
        number = int(value)
        low, high = (0, 1) if self.boolean else (self.minimum, self.maximum)
        if not low <= number <= high:
            raise ValueError(f"{self.label} must be between {low} and {high}.")
        return number


@dataclass
class Finding:
    """One thing a detection found, with what it is about (``key``) and a link to the rows that show it."""

    detection: str
    severity: str
    key: dict[str, str]
    title: str
    summary: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    evidence_url: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Stable across evaluations: the detection and what it is about, not the time window it was seen in."""
        raw = f"{self.detection}|{json.dumps(self.key, sort_keys=True)}"
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def subject(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.key.items())[:300]

    @property
    def detection_label(self) -> str:
        return Detection(self.detection).label


@dataclass(frozen=True)
class Scope:
    """What a detection looks at: one tenant's records in ``[start, end)``, with the tenant's thresholds."""

    tenant: Tenant
    start: dt.datetime | None
    end: dt.datetime
    params: Mapping[str, int]
    detection: DetectionSpec
    limit: int = MAX_FINDINGS

    def records(self, model: type[models.Model], time_field: str) -> QuerySet:
        qs = model.objects.for_tenant(self.tenant).filter(**{f"{time_field}__lt": self.end})
        if self.start is not None:
            qs = qs.filter(**{f"{time_field}__gte": self.start})
        return qs.order_by()

    def events(self, *types: str) -> QuerySet:
        qs = self.records(EventLog, "created_on")
        if len(types) == 1:
            return qs.filter(event_type=types[0])
        return qs.filter(event_type__in=types) if types else qs

    def minutes(self, name: str) -> dt.timedelta:
        return dt.timedelta(minutes=self.params[name])

    def finding(
        self,
        *,
        key: dict[str, str],
        title: str,
        summary: str,
        count: int,
        first: dt.datetime,
        last: dt.datetime,
        evidence: str,
        **facts: Any,
    ) -> Finding:
        return Finding(
            detection=self.detection.name,
            severity=self.detection.severity,
            key=key,
            title=title,
            summary=summary,
            count=count,
            first_seen=first,
            last_seen=last,
            evidence_url=evidence,
            facts=facts,
        )

    def evidence(self, kind: str, first: dt.datetime, last: dt.datetime, **filters: str | Iterable[str]) -> str:
        """The list page of ``kind`` filtered to ``filters`` between ``first`` and ``last`` (inclusive)."""
        return evidence_url(kind, first, last, tz=self.tenant.tz, **filters)


@dataclass(frozen=True)
class DetectionSpec:
    """A registered detection: its name (a :class:`~insights.models.Detection`), what it means, its thresholds."""

    name: str
    severity: str
    kind: str  # the record kind its evidence links to
    description: str
    params: tuple[Param, ...]
    run: Callable[[Scope], list[Finding]]
    # Detections whose finding about the same subject, at an overlapping time, already reports what this one would:
    # the same attack seen by two detections is reported once, by the more specific one.
    reported_by: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return Detection(self.name).label

    @property
    def defaults(self) -> dict[str, int]:
        return {param.name: param.default for param in self.params}

    def thresholds(self, overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Defaults with the tenant's overrides applied; an override that is no longer valid is ignored."""
        values = self.defaults
        for param in self.params:
            if overrides and param.name in overrides:
                try:
                    values[param.name] = param.clean(overrides[param.name])
                except (TypeError, ValueError):
                    continue
        return values


_REGISTRY: dict[str, DetectionSpec] = {}


def detection(
    name: Detection,
    *,
    severity: Severity,
    kind: str,
    description: str,
    params: tuple[Param, ...],
    reported_by: tuple[Detection, ...] = (),
) -> Callable[[Callable[[Scope], list[Finding]]], Callable[[Scope], list[Finding]]]:
    """Register a detection function under ``name``."""

    def register(run: Callable[[Scope], list[Finding]]) -> Callable[[Scope], list[Finding]]:
        _REGISTRY[name] = DetectionSpec(
            name=str(name),
            severity=str(severity),
            kind=kind,
            description=description,
            params=params,
            run=run,
            reported_by=tuple(str(other) for other in reported_by),
        )
        return run

    return register


def detections() -> list[DetectionSpec]:
    """Every registered detection, in the order of :class:`~insights.models.Detection`."""
    return [_REGISTRY[name] for name in Detection.values if name in _REGISTRY]


def get(name: str) -> DetectionSpec:
    return _REGISTRY[name]


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _iso(moment: dt.datetime, tz: Any) -> str:
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


def evidence_url(kind: str, first: dt.datetime, last: dt.datetime, *, tz: Any, **filters: str | Iterable[str]) -> str:
    """A list-page URL (DESIGN 6b) selecting ``filters`` from ``first`` to ``last`` inclusive.

    The list's ``end`` is exclusive and read to the second, so it is the second after ``last``.
    """
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        values = [value] if isinstance(value, str) else list(value)
        params.extend((name, str(v)) for v in values)
    end = last.replace(microsecond=0) + dt.timedelta(seconds=1)
    params += [("start", _iso(first, tz)), ("end", _iso(end, tz))]
    return f"{registry.get(kind).list_url}?{urlencode(params)}"


def _before(name: str, delta: dt.timedelta) -> ExpressionWrapper:
    """The outer row's ``name`` minus ``delta``, for correlated subqueries."""
    return ExpressionWrapper(OuterRef(name) - delta, output_field=models.DateTimeField())


def _after(name: str, delta: dt.timedelta) -> ExpressionWrapper:
    """The outer row's ``name`` plus ``delta``, for correlated subqueries."""
    return ExpressionWrapper(OuterRef(name) + delta, output_field=models.DateTimeField())


def _top(counter: Counter, noun: str, limit: int = 3) -> str:
    if not counter:
        return f"no {noun}"
    names = ", ".join(str(value) for value, _ in counter.most_common(limit))
    more = len(counter) - limit
    plural = noun if len(counter) == 1 else noun + "es" if noun.endswith("ss") else noun + "s"
    return f"{len(counter)} {plural} ({names}{f' and {more} more' if more > 0 else ''})"


def _time(moment: dt.datetime, tz: Any) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


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


# --------------------------------------------------------------------------------------------------------------
# Failed logins
# --------------------------------------------------------------------------------------------------------------


@detection(
    Detection.BRUTE_FORCE,
    severity=Severity.HIGH,
    kind="events",
    description="Many failed logins for one account within a few minutes: someone guessing its password.",
    params=(
        Param("failures", "Failed logins, at least", 10, 2),
        Param("window_minutes", "Within (minutes)", 10, 1, 24 * 60),
    ),
)
def brute_force(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    found = []
    for burst in find_bursts(
        scope.events(EventType.LOGIN_FAILED),
        key="email",
        time_field="created_on",
        window=scope.minutes("window_minutes"),
        min_rows=p["failures"],
        extra=("ip_address",),
        limit=scope.limit,
    ):
        ips = burst.values("ip_address")
        found.append(
            scope.finding(
                key={"email": burst.value},
                title=f"{burst.count} failed logins for {burst.value}",
                summary=f"Up to {burst.peak} failed logins within {p['window_minutes']} minutes, between "
                f"{_time(burst.first, tz)} and {_time(burst.last, tz)}, from {_top(ips, 'IP address')}.",
                count=burst.count,
                first=burst.first,
                last=burst.last,
                evidence=scope.evidence(
                    "events", burst.first, burst.last, email=burst.value, event_type=EventType.LOGIN_FAILED
                ),
                peak=burst.peak,
                ips=[ip for ip, _ in ips.most_common(10)],
            )
        )
    return found


@detection(
    Detection.DISTRIBUTED_ATTACK,
    severity=Severity.HIGH,
    kind="events",
    description="Many failed logins from one IP address against several accounts (password spraying).",
    reported_by=(Detection.CREDENTIAL_STUFFING,),  # one IP failing for very many accounts is reported as that
    params=(
        Param("failures", "Failed logins, at least", 20, 2),
        Param("accounts", "Accounts, at least", 3, 2),
        Param("window_minutes", "Within (minutes)", 60, 1, 24 * 60),
    ),
)
def distributed_attack(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    found = []
    for burst in find_bursts(
        scope.events(EventType.LOGIN_FAILED),
        key="ip_address",
        time_field="created_on",
        window=scope.minutes("window_minutes"),
        min_rows=p["failures"],
        distinct="email",
        min_distinct=p["accounts"],
        limit=scope.limit,
    ):
        accounts = burst.values("email")
        found.append(
            scope.finding(
                key={"ip_address": burst.value},
                title=f"{burst.count} failed logins from {burst.value} against {len(accounts)} accounts",
                summary=f"Up to {burst.peak} failed logins within {p['window_minutes']} minutes from one IP "
                f"address, between {_time(burst.first, tz)} and {_time(burst.last, tz)}, for "
                f"{_top(accounts, 'account')}.",
                count=burst.count,
                first=burst.first,
                last=burst.last,
                evidence=scope.evidence(
                    "events", burst.first, burst.last, ip_address=burst.value, event_type=EventType.LOGIN_FAILED
                ),
                peak=burst.peak,
                accounts=len(accounts),
            )
        )
    return found


@detection(
    Detection.CREDENTIAL_STUFFING,
    severity=Severity.HIGH,
    kind="events",
    description="Failed logins for many different accounts from one IP address or one user agent: leaked "
    "credentials being tried one after another.",
    params=(
        Param("accounts", "Accounts, at least", 20, 2),
        Param("window_minutes", "Within (minutes)", 30, 1, 24 * 60),
    ),
)
def credential_stuffing(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    found: list[Finding] = []
    flagged_ips: set[str] = set()
    failures = scope.events(EventType.LOGIN_FAILED).exclude(email="")
    for source, label in (("ip_address", "IP address"), ("user_agent", "user agent")):
        for burst in find_bursts(
            failures,
            key=source,
            time_field="created_on",
            window=scope.minutes("window_minutes"),
            min_rows=1,
            distinct="email",
            min_distinct=p["accounts"],
            extra=("ip_address",) if source == "user_agent" else ("user_agent",),
            limit=scope.limit,
        ):
            ips = burst.values("ip_address") if source == "user_agent" else Counter({burst.value: burst.count})
            if source == "user_agent" and set(ips) <= flagged_ips:
                continue  # the same attack, already reported by its IP address
            flagged_ips.update(ips)
            accounts = burst.values("email")
            found.append(
                scope.finding(
                    key={source: burst.value},
                    title=f"Failed logins for {len(accounts)} accounts from {label} {burst.value}"[:300],
                    summary=f"Up to {burst.peak_distinct} different accounts failed within {p['window_minutes']} "
                    f"minutes from one {label}, between {_time(burst.first, tz)} and {_time(burst.last, tz)}"
                    + (f", from {_top(ips, 'IP address')}" if source == "user_agent" else "")
                    + ".",
                    count=burst.count,
                    first=burst.first,
                    last=burst.last,
                    evidence=scope.evidence(
                        "events", burst.first, burst.last, **{source: burst.value}, event_type=EventType.LOGIN_FAILED
                    ),
                    accounts=len(accounts),
                    peak_accounts=burst.peak_distinct,
                )
            )
    found.sort(key=lambda f: -f.count)
    return found[: scope.limit]


@detection(
    Detection.SUCCESS_AFTER_FAILURES,
    severity=Severity.HIGH,
    kind="events",
    description="A successful login right after a run of failed logins for the same account: a guess may have worked.",
    params=(
        Param("failures", "Failed logins before it, at least", 5, 1),
        Param("window_minutes", "Within (minutes)", 30, 1, 24 * 60),
    ),
)
def success_after_failures(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    window = scope.minutes("window_minutes")
    runs = find_bursts(
        scope.events(EventType.LOGIN_FAILED),
        key="email",
        time_field="created_on",
        window=window,
        min_rows=p["failures"],
        extra=("ip_address",),
        limit=scope.limit * 4,
    )
    if not runs:
        return []
    # Every failure that can precede a qualifying success lies inside a qualifying window, so the runs suffice.
    where = Q()
    for run in runs:
        where |= Q(email=run.value, created_on__gt=run.first, created_on__lte=run.last + window)
    logins: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        scope.events(EventType.LOGIN).filter(where).order_by("created_on").values("email", "created_on", "ip_address")
    ):
        logins[row["email"]].append(row)
    found = []
    for run in runs:
        times = [row["created_on"] for row in run.rows]
        for login in logins.get(run.value, []):
            moment = login["created_on"]
            before = bisect.bisect_left(times, moment) - bisect.bisect_left(times, moment - window)
            if before >= p["failures"]:
                first = times[bisect.bisect_left(times, moment - window)]
                ips = Counter(row["ip_address"] for row in run.rows if row["ip_address"])
                found.append(
                    scope.finding(
                        key={"email": run.value},
                        title=f"Login for {run.value} after {before} failed logins",
                        summary=f"{before} failed logins (from {_top(ips, 'IP address')}) were followed by a "
                        f"successful login at {_time(moment, tz)} from {login['ip_address'] or 'an unknown IP'}.",
                        count=before + 1,
                        first=first,
                        last=moment,
                        evidence=scope.evidence("events", first, moment, email=run.value),
                        login_ip=login["ip_address"],
                    )
                )
                break
    found.sort(key=lambda f: -f.count)
    return found[: scope.limit]


# --------------------------------------------------------------------------------------------------------------
# Account takeover signals
# --------------------------------------------------------------------------------------------------------------


@detection(
    Detection.NEW_IP_AFTER_RESET,
    severity=Severity.MEDIUM,
    kind="events",
    description="A login from an IP address or user agent the account had not used before, right after a password "
    "reset: the reset may have been done by someone else.",
    params=(
        Param("window_minutes", "Login within (minutes) after the reset", 60, 1, 24 * 60),
        Param("lookback_days", "Known IPs and devices: the last (days)", 30, 1, 365),
    ),
)
def new_ip_after_reset(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    window = scope.minutes("window_minutes")
    tenant_events = EventLog.objects.for_tenant(scope.tenant)
    # Driven by the resets (rare), each probing the (tenant, email, time) index for the first login after it.
    first_login = tenant_events.filter(
        email=OuterRef("email"),
        event_type=EventType.LOGIN,
        created_on__gt=OuterRef("created_on"),
        created_on__lte=_after("created_on", window),
    ).order_by("created_on", "pk")
    known = tenant_events.filter(
        email=OuterRef("email"),
        event_type__in=SUCCESS_EVENTS,
        created_on__lt=OuterRef("created_on"),
        created_on__gte=_before("created_on", dt.timedelta(days=p["lookback_days"])),
    )
    rows = (
        scope.events(EventType.PASSWORD_RESET)
        .exclude(email="")
        .annotate(
            login_at=Subquery(first_login.values("created_on")[:1]),
            login_ip=Subquery(first_login.values("ip_address")[:1]),
            login_agent=Subquery(first_login.values("user_agent")[:1]),
        )
        .filter(login_at__isnull=False)
        .filter(Exists(known))  # someone with no history has nothing to compare with
        .annotate(
            known_ip=Exists(known.filter(ip_address=OuterRef("login_ip"))),
            known_agent=Exists(known.filter(user_agent=OuterRef("login_agent"))),
        )
        .filter(Q(login_ip__isnull=False, known_ip=False) | (~Q(login_agent="") & Q(known_agent=False)))
        .order_by("-created_on")
        .values("email", "created_on", "login_at", "login_ip", "login_agent", "known_ip", "known_agent")[
            : scope.limit * 10
        ]
    )
    by_email: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_email[row["email"]].append(row)
    found = []
    for email, resets in list(by_email.items())[: scope.limit]:
        logins = {row["login_at"]: row for row in resets}  # a reset requested and completed leads to one login
        first = min(row["created_on"] for row in resets)
        last = max(logins)
        new_ips = sorted({r["login_ip"] for r in logins.values() if r["login_ip"] and not r["known_ip"]})
        new_agents = sorted({r["login_agent"] for r in logins.values() if r["login_agent"] and not r["known_agent"]})
        what = []
        if new_ips:
            what.append(f"new IP address {', '.join(new_ips[:3])}")
        if new_agents:
            what.append(f"new user agent {new_agents[0][:80]}")
        found.append(
            scope.finding(
                key={"email": email},
                title=f"Login for {email} from a new {'IP address' if new_ips else 'device'} after a password reset",
                summary=f"{len(logins)} login{'s' if len(logins) > 1 else ''} within {p['window_minutes']} minutes "
                f"of a password reset, last at {_time(last, tz)}, from {' and '.join(what)} (not seen in the "
                f"{p['lookback_days']} days before the reset).",
                count=len(logins),
                first=first,
                last=last,
                evidence=scope.evidence("events", first, last, email=email),
                new_ips=new_ips,
                new_agents=new_agents,
            )
        )
    return found


@detection(
    Detection.CONCURRENT_SESSIONS,
    severity=Severity.MEDIUM,
    kind="sessions",
    description="Sessions of one user started from different IP addresses within a short time while the earlier "
    "one was still open: the account may be used in two places.",
    params=(Param("window_minutes", "Started within (minutes) of each other", 30, 1, 24 * 60),),
)
def concurrent_sessions(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    window = scope.minutes("window_minutes")
    ip = KeyTextTransform("ip_address", "details")  # the identity service records the session's IP in details
    sessions = scope.records(Session, "created_at").exclude(email="").annotate(_ip=ip).filter(_ip__isnull=False)
    overlapping = (
        Session.objects.for_tenant(scope.tenant)
        .annotate(_ip=KeyTextTransform("ip_address", "details"))
        .filter(
            email=OuterRef("email"),
            created_at__lte=OuterRef("created_at"),
            created_at__gte=_before("created_at", window),
            _ip__isnull=False,
        )
        .exclude(pk=OuterRef("pk"))
        .exclude(_ip=OuterRef("_ip"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=OuterRef("created_at")))
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=OuterRef("created_at")))
    )
    groups = list(
        sessions.filter(Exists(overlapping))
        .values("email")
        .annotate(n=Count("pk"), first=Min("created_at"), last=Max("created_at"))
        .filter(n__gte=1)
        .order_by("-n", "email")[: scope.limit]
    )
    if not groups:
        return []
    where = Q()
    for group in groups:
        where |= Q(email=group["email"], created_at__gte=group["first"] - window, created_at__lte=group["last"])
    ips: dict[str, Counter] = defaultdict(Counter)
    for row in Session.objects.for_tenant(scope.tenant).filter(where).annotate(_ip=ip).values("email", "_ip"):
        if row["_ip"]:
            ips[row["email"]][row["_ip"]] += 1
    found = []
    for group in groups:
        email, first = group["email"], group["first"] - window
        found.append(
            scope.finding(
                key={"email": email},
                title=f"Concurrent sessions for {email} from {len(ips[email])} IP addresses",
                summary=f"{group['n']} session{'s' if group['n'] > 1 else ''} started within {p['window_minutes']} "
                f"minutes of another still-open session from a different IP address, last at "
                f"{_time(group['last'], tz)}; {_top(ips[email], 'IP address')}.",
                count=group["n"],
                first=first,
                last=group["last"],
                evidence=scope.evidence("sessions", first, group["last"], email=email),
                ips=list(ips[email]),
            )
        )
    return found


@detection(
    Detection.MFA_BYPASS,
    severity=Severity.HIGH,
    kind="events",
    description="Failed MFA, then a successful login for the same account with no MFA verification: a possible "
    "MFA bypass.",
    params=(Param("window_minutes", "Within (minutes)", 30, 1, 24 * 60),),
)
def mfa_bypass(scope: Scope) -> list[Finding]:
    p, tz = scope.params, scope.tenant.tz
    window = scope.minutes("window_minutes")
    tenant_events = EventLog.objects.for_tenant(scope.tenant)
    # Driven by the MFA failures (rare): a login soon after one, with no MFA verification in between.
    verified_between = tenant_events.filter(
        email=OuterRef("email"),
        event_type=EventType.MFA_VERIFIED,
        created_on__gte=OuterRef(OuterRef("created_on")),
        created_on__lte=OuterRef("created_on"),
    )
    unverified_login = (
        tenant_events.filter(
            email=OuterRef("email"),
            event_type=EventType.LOGIN,
            created_on__gt=OuterRef("created_on"),
            created_on__lte=_after("created_on", window),
        )
        .filter(~Exists(verified_between))
        .order_by("created_on")
    )
    groups = list(
        scope.events(EventType.MFA_FAILED)
        .exclude(email="")
        # A LIMIT 1 subquery rather than EXISTS: PostgreSQL would turn EXISTS into a hash join over every login of
        # the period, where one index probe per (rare) failure is far cheaper.
        .annotate(_login=Subquery(unverified_login.values("created_on")[:1]))
        .filter(_login__isnull=False)
        .values("email")
        .annotate(n=Count("*"), first=Min("created_on"), last=Max("created_on"))
        .order_by("-n", "email")[: scope.limit]
    )
    found = []
    for g in groups:
        last = min(g["last"] + window, scope.end)
        found.append(
            scope.finding(
                key={"email": g["email"]},
                title=f"Login without MFA for {g['email']} after failed MFA",
                summary=f"{g['n']} failed MFA attempt{'s' if g['n'] > 1 else ''}, each followed within "
                f"{p['window_minutes']} minutes by a login with no MFA verification in between; the last failure at "
                f"{_time(g['last'], tz)}.",
                count=g["n"],
                first=g["first"],
                last=last,
                evidence=scope.evidence(
                    "events",
                    g["first"],
                    last,
                    email=g["email"],
                    event_type=(EventType.MFA_FAILED, EventType.MFA_VERIFIED, EventType.LOGIN),
                ),
            )
        )
    return found


# --------------------------------------------------------------------------------------------------------------
# Revocations
# --------------------------------------------------------------------------------------------------------------


KEPT_SOURCES_READ = 200  # reporting tokens looked at per kind and period, those with the most kept ids first
KEPT_REPORTS_READ = 500  # reports read per token, kind and period, newest first
KEPT_IDS_PER_SOURCE = 1000  # distinct ids looked at per reporting source
KEPT_IDS_SHOWN = 10  # in the summary
KEPT_IDS_IN_FACTS = 100  # in the finding's facts


@dataclass(frozen=True)
class _KeptReport:
    when: dt.datetime
    ids: list[str]
    statuses: list[str]


def _kept_reports(scope: Scope, model: type[Session] | type[Grant]) -> dict[str, list[_KeptReport]]:
    """authmon's own reports of kept revocations of ``model`` in the period, oldest first, by the token that sent
    them (named as its audit record names it).

    Read from :class:`~sessions_grants.models.RevocationKeptReport`, which only ingest writes, and never from the
    audit records beside them: those can be ingested, so a forged one could hide a real report or blame another
    token. Each source gets its own window of reports, so that one token's many reports cannot crowd out another's.
    """
    kind = registry.for_model(model).name
    reports = RevocationKeptReport.objects.filter(tenant=scope.tenant, kind=kind, created_at__lt=scope.end)
    if scope.start is not None:
        reports = reports.filter(created_at__gte=scope.start)
    sources = (
        reports.values("token_id", "token_label")
        .annotate(kept=Sum("kept_count"), latest=Max("created_at"))
        .order_by("-kept", "-latest", "token_label")[:KEPT_SOURCES_READ]
    )
    by_source: dict[str, list[_KeptReport]] = {}
    for source in sources:
        rows = (
            reports.filter(token_id=source["token_id"], token_label=source["token_label"])
            .order_by("-created_at", "-pk")
            .values_list("created_at", "kept_ids", "reported_status")[:KEPT_REPORTS_READ]
        )
        found = [_KeptReport(when, _strings(ids), _strings(statuses)) for when, ids, statuses in reversed(rows)]
        by_source.setdefault(source["token_label"], []).extend(found)
    for found in by_source.values():
        found.sort(key=lambda report: report.when)
    return by_source


def _strings(value: Any) -> list[str]:
    """The text items of a JSON list."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _revoked_among(scope: Scope, model: type[Session] | type[Grant], key: str, ids: set[str]) -> dict[str, str]:
    """Which of ``ids`` are revoked rows of the tenant, each with its user (e-mail, else user id)."""
    found: dict[str, str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        rows = (
            model.objects.for_tenant(scope.tenant)
            .filter(status=AccessStatus.REVOKED, **{f"{key}__in": wanted[start : start + 500]})
            .values_list(key, "email", "user_id")
        )
        found.update((value, email or user_id) for value, email, user_id in rows)
    return found


def _records_url(kind: str, key: str, ids: list[str]) -> tuple[str, int]:
    """The list page of ``kind`` showing the rows whose ``key`` is one of ``ids`` (as many as fit in one question)."""
    label = registry.get(kind).field_map.field(key).label
    quoted: list[str] = []
    length = len(f"{label} is one of ()")
    for value in ids:
        text = quote(value)
        if length + len(text) + 2 > MAX_LENGTH:
            break
        quoted.append(text)
        length += len(text) + 2
    question = f"{label} is one of ({', '.join(quoted)})"
    return f"{registry.get(kind).list_url}?{urlencode([('q', question), ('preset', 'all')])}", len(quoted)


def _more(values: list[str], limit: int) -> str:
    text = ", ".join(values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


@detection(
    Detection.REVOKED_REPORTED_ACTIVE,
    severity=Severity.MEDIUM,
    kind="sessions",
    description="An ingested batch reported revoked sessions or grants as active or expired. authmon kept them "
    "revoked, as revocation is final; the identity service may not have applied the revocation, or someone is "
    "replaying old data with its API token.",
    params=(Param("records", "Revoked sessions or grants reported by one token, at least", 1, 1),),
)
def revoked_reported_active(scope: Scope) -> list[Finding]:
    """One finding per record kind and reporting token, read from the report that ingest keeps server-side for each
    batch it kept revoked (``sessions_grants.services.revocations_kept_audit`` writes it with the audit record).

    Only the ids that are still revoked rows of this tenant count (a row may have been trimmed since).
    """
    p, tz = scope.params, scope.tenant.tz
    found: list[Finding] = []
    for model in (Session, Grant):
        kind = registry.for_model(model)
        key = kind.upsert_key or ""
        reports = _kept_reports(scope, model)
        named: dict[str, list[str]] = {}
        for actor, kept_reports in reports.items():
            ids = dict.fromkeys(i for report in kept_reports for i in report.ids)
            named[actor] = list(ids)[:KEPT_IDS_PER_SOURCE]
        revoked = _revoked_among(scope, model, key, {i for ids in named.values() for i in ids})
        for actor, kept_reports in reports.items():
            ids = [i for i in named[actor] if i in revoked]
            if not ids or len(ids) < p["records"]:
                continue
            kept = set(ids)
            mine = [report for report in kept_reports if kept.intersection(report.ids)]
            first, last = mine[0].when, mine[-1].when
            statuses = sorted({s[:20] for report in mine for s in report.statuses})
            reported = " or ".join(statuses) or "active"
            users = Counter(revoked[i] for i in ids if revoked[i])
            noun, them = (kind.singular.lower(), "it") if len(ids) == 1 else (kind.noun, "them")
            url, linked = _records_url(kind.name, key, ids)
            batches = len(mine)
            found.append(
                scope.finding(
                    key={"kind": kind.name, "actor": actor},
                    title=f"{len(ids)} revoked {noun} reported {reported} by {actor}"[:300],
                    summary=f"{batches} ingested batch{'es' if batches != 1 else ''} between {_time(first, tz)} and "
                    f"{_time(last, tz)} reported {_more(ids, KEPT_IDS_SHOWN)} as {reported}, for "
                    f"{_top(users, 'user')}. authmon kept {them} revoked: check that the identity service has ended "
                    f"{them}, and whether this token is replaying old data."
                    + (f" The link shows the first {linked}." if linked < len(ids) else ""),
                    count=len(ids),
                    first=first,
                    last=last,
                    evidence=url,
                    ids=ids[:KEPT_IDS_IN_FACTS],
                    statuses=statuses,
                    batches=batches,
                )
            )
    found.sort(key=lambda f: (-f.count, f.subject))
    return found[: scope.limit]


# --------------------------------------------------------------------------------------------------------------
# Administrative changes
# --------------------------------------------------------------------------------------------------------------


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
                f"{_time(burst.first, tz)} and {_time(burst.last, tz)}: "
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
            summary=f"Changes between {_time(g['first'], tz)} and {_time(g['last'], tz)} "
            f"({scope.tenant.timezone}), outside business hours {hours}" + (" on weekdays." if p["weekends"] else "."),
            count=g["n"],
            first=g["first"],
            last=g["last"],
            evidence=scope.evidence("audit", g["first"], g["last"], actor=g["actor"]),
        )
        for g in groups
    ]


# --------------------------------------------------------------------------------------------------------------
# E-mail and jobs
# --------------------------------------------------------------------------------------------------------------


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
            f"{'s' if g['n'] > 1 else ''}, last at {_time(g['last'], scope.tenant.tz)}.",
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
                f"{_time(burst.first, tz)} and {_time(burst.last, tz)}. Latest: {latest[:160]}",
                count=burst.count,
                first=burst.first,
                last=burst.last,
                evidence=scope.evidence(
                    "jobs", burst.first, burst.last, job_name=burst.value, latest_status=JobStatus.FAILED
                ),
            )
        )
    return found

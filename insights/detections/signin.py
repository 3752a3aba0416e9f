"""Detections of attacks on sign-in: many failed logins for one account (brute force), from one IP address against
several accounts (password spraying) or against very many (credential stuffing), and a login that follows a run of
failures.

They share one shape, a burst of ``LOGIN_FAILED`` events inside a window (:func:`~insights.detections.windows.
find_bursts`), and differ only in what the burst is keyed and counted by.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Q

from events.models import EventType
from insights.detections.base import Finding, Param, Scope, detection
from insights.detections.text import time_text, top_text
from insights.detections.windows import find_bursts
from insights.models import Detection, Severity


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
                f"{time_text(burst.first, tz)} and {time_text(burst.last, tz)}, from {top_text(ips, 'IP address')}.",
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
                f"address, between {time_text(burst.first, tz)} and {time_text(burst.last, tz)}, for "
                f"{top_text(accounts, 'account')}.",
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
                    f"minutes from one {label}, between {time_text(burst.first, tz)} and {time_text(burst.last, tz)}"
                    + (f", from {top_text(ips, 'IP address')}" if source == "user_agent" else "")
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
                        summary=f"{before} failed logins (from {top_text(ips, 'IP address')}) were followed by a "
                        f"successful login at {time_text(moment, tz)} from {login['ip_address'] or 'an unknown IP'}.",
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

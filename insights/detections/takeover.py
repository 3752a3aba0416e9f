"""Detections of an account that may be in someone else's hands: a login from a new IP address or device right after
a password reset, sessions open from two IP addresses at once, a login without MFA after failed MFA.

Unlike the sign-in attacks these are sequences of different events for one account, each answered by correlated
subqueries driven by the rare event (the reset, the MFA failure) so that the common ones are only probed by index.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform

from events.models import EventLog, EventType
from insights.detections.base import Finding, Param, Scope, detection
from insights.detections.text import time_text, top_text
from insights.detections.windows import outer_after, outer_before
from insights.models import Detection, Severity
from sessions_grants.models import Session

SUCCESS_EVENTS = (
    EventType.LOGIN,
    EventType.SESSION_CREATED,
    EventType.TOKEN_REFRESHED,
    EventType.MFA_VERIFIED,
    EventType.LOGOUT,
)


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
        created_on__lte=outer_after("created_on", window),
    ).order_by("created_on", "pk")
    known = tenant_events.filter(
        email=OuterRef("email"),
        event_type__in=SUCCESS_EVENTS,
        created_on__lt=OuterRef("created_on"),
        created_on__gte=outer_before("created_on", dt.timedelta(days=p["lookback_days"])),
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
                f"of a password reset, last at {time_text(last, tz)}, from {' and '.join(what)} (not seen in the "
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
            created_at__gte=outer_before("created_at", window),
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
                f"{time_text(group['last'], tz)}; {top_text(ips[email], 'IP address')}.",
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
            created_on__lte=outer_after("created_on", window),
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
                f"{time_text(g['last'], tz)}.",
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

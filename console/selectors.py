"""What the console's user and client pages show, read across the kinds (the site composes them; views render).

The guide's "Suspected account compromise" checklist in one read: a user's recent events with failures, the
addresses and devices seen, sessions and grants, and the audit changes the user made; for a client, its counts.
Every read goes through the tenant door (``for_user``) of the viewer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from authmon import registry
from authmon.permissions import Perm, has_perm
from authmon.selectors import activity_timeline
from authmon.tenancy import active_tenant_for
from sessions_grants.models import status_q
from sessions_grants.selectors import user_access, user_active_access, user_aliases
from sessions_grants.webhooks import webhook_for

FAILURE_EVENTS = ("login_failed", "mfa_failed", "account_locked")


def _person_q(kind: registry.LogKind, names: list[str]) -> Q:
    q = Q()
    for name in names:
        for field in kind.person_fields:
            q |= Q(**{f"{field}__iexact": name})
    return q


def _client_q(kind: registry.LogKind, client: str) -> Q:
    q = Q()
    for field in kind.client_fields:
        q |= Q(**{f"{field}__iexact": client})
    return q


def summary_counts(viewer: Any, *, names: list[str] | None = None, client: str = "") -> dict[str, int]:
    """Failed logins (last 30 days), active sessions and active grants for a user (any of ``names``) or a client.

    "Active" leaves out rows past their expiry that the cleanup job has not marked expired yet.
    """
    events, sessions, grants = registry.get("events"), registry.get("sessions"), registry.get("grants")
    since = timezone.now() - dt.timedelta(days=30)

    def match(kind: registry.LogKind) -> Q:
        return _person_q(kind, names) if names else _client_q(kind, client)

    active = status_q("active")
    return {
        "failed_logins": events.model.objects.for_user(viewer)
        .filter(match(events), event_type="login_failed", created_on__gte=since)
        .count(),
        "active_sessions": sessions.model.objects.for_user(viewer).filter(match(sessions)).filter(active).count(),
        "active_grants": grants.model.objects.for_user(viewer).filter(match(grants)).filter(active).count(),
    }


def devices_seen(viewer: Any, names: list[str], *, days: int = 30, limit: int = 25) -> list[dict[str, Any]]:
    """The IP address and user agent pairs a user's events came from (last ``days``), newest first, with counts."""
    events = registry.get("events")
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        events.model.objects.for_user(viewer)
        .filter(_person_q(events, names), created_on__gte=since)
        .values("ip_address", "user_agent")
        .annotate(
            events=Count("pk"),
            failures=Count("pk", filter=Q(event_type__in=FAILURE_EVENTS)),
            first_seen=Min("created_on"),
            last_seen=Max("created_on"),
        )
        .order_by("-last_seen")[:limit]
    )


def user_activity(viewer: Any, user: str, *, confirm: str = "") -> dict[str, Any]:
    """Everything about one user (any of the names the tenant's records give them) that ``viewer`` may see; with
    ``confirm`` ("all", "sessions", "grants") also what "Contain account" would revoke."""
    aliases = user_aliases(user=user, tenant=active_tenant_for(viewer))
    names = [user, *aliases]
    events, audit = registry.get("events"), registry.get("audit")
    sessions, grants = user_access(names=names, viewer=viewer)
    can_revoke = has_perm(viewer, Perm.REVOKE, "sessions") and has_perm(viewer, Perm.REVOKE, "grants")
    activity: dict[str, Any] = {
        "subject_kind": "user",
        "subject": user,
        "aliases": aliases,
        "timeline": activity_timeline(viewer, person=user),
        "counts": summary_counts(viewer, names=names),
        "can_revoke": can_revoke,
        "recent_events": list(
            events.model.objects.for_user(viewer).filter(_person_q(events, names)).order_by("-created_on", "-pk")[:25]
        ),
        "failure_events": FAILURE_EVENTS,
        "devices": devices_seen(viewer, names),
        "sessions": sessions,
        "grants": grants,
        "changes": list(
            audit.model.objects.for_user(viewer)
            .filter(Q.create([("actor__iexact", n) for n in names], connector=Q.OR))
            .order_by("-timestamp", "-pk")[:25]
        ),
        "emails": [n for n in names if "@" in n],
        "webhook": webhook_for(active_tenant_for(viewer)) if can_revoke else None,
    }
    # A name no record of this tenant mentions gets "no records", not the compromise playbook and a red button.
    activity["unknown"] = not (
        aliases or activity["recent_events"] or sessions or grants or activity["changes"] or activity["timeline"]
    )
    if can_revoke and not activity["unknown"] and confirm in ("all", "sessions", "grants"):
        active_sessions, active_grants = user_active_access(names=names, viewer=viewer)
        activity["confirm_scope"] = confirm
        activity["to_revoke"] = {
            "sessions": active_sessions if confirm != "grants" else [],
            "grants": active_grants if confirm != "sessions" else [],
        }
    return activity


def client_activity(viewer: Any, client: str) -> dict[str, Any]:
    """One application's activity timeline and counts, as ``viewer`` may see them."""
    return {
        "subject_kind": "client",
        "subject": client,
        "timeline": activity_timeline(viewer, client=client),
        "counts": summary_counts(viewer, client=client),
    }

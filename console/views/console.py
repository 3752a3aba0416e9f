"""Console pages that are not per-kind: home, user and client views, tenant switch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import audit_record
from authmon import registry
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.redirects import safe_next
from authmon.selectors import activity_timeline, last_24h_counts
from authmon.tenancy import active_tenant_for, switch_tenant
from sessions_grants.models import status_q
from sessions_grants.selectors import user_access, user_active_access, user_aliases
from sessions_grants.webhooks import webhook_for


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "authmon/home.html", {"counts": last_24h_counts(request.user)})


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


def _summary_counts(request: HttpRequest, *, names: list[str] | None = None, client: str = "") -> dict[str, int]:
    """Failed logins (last 30 days), active sessions and active grants for a user (any of ``names``) or a client.

    "Active" leaves out rows past their expiry that the cleanup job has not marked expired yet.
    """
    events, sessions, grants = registry.get("events"), registry.get("sessions"), registry.get("grants")
    since = timezone.now() - dt.timedelta(days=30)

    def match(kind: registry.LogKind) -> Q:
        return _person_q(kind, names) if names else _client_q(kind, client)

    active = status_q("active")
    return {
        "failed_logins": events.model.objects.for_user(request.user)
        .filter(match(events), event_type="login_failed", created_on__gte=since)
        .count(),
        "active_sessions": sessions.model.objects.for_user(request.user).filter(match(sessions)).filter(active).count(),
        "active_grants": grants.model.objects.for_user(request.user).filter(match(grants)).filter(active).count(),
    }


def _devices_seen(request: HttpRequest, names: list[str], *, days: int = 30, limit: int = 25) -> list[dict[str, Any]]:
    """The IP address and user agent pairs a user's events came from (last ``days``), newest first, with counts."""
    events = registry.get("events")
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        events.model.objects.for_user(request.user)
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


def user_view(request: HttpRequest, user: str) -> HttpResponse:
    """Everything about one user in one place, laid out for the guide's "Suspected account compromise" checklist:
    recent events with failures, the IPs and devices seen, sessions and grants (with "Contain account"), and the
    audit changes the user made."""
    user = user.strip()[:254]
    viewer = request.user
    aliases = user_aliases(user=user, tenant=active_tenant_for(viewer))
    names = [user, *aliases]
    events, audit = registry.get("events"), registry.get("audit")
    sessions, grants = user_access(names=names, viewer=viewer)
    can_revoke = has_perm(viewer, Perm.REVOKE, "sessions") and has_perm(viewer, Perm.REVOKE, "grants")
    emails = [n for n in names if "@" in n]
    context: dict[str, Any] = {
        "subject_kind": "user",
        "subject": user,
        "aliases": aliases,
        "timeline": activity_timeline(viewer, person=user),
        "counts": _summary_counts(request, names=names),
        "can_revoke": can_revoke,
        "activity_actions": "sessions_grants/activity_actions.html",
        "recent_events": list(
            events.model.objects.for_user(viewer).filter(_person_q(events, names)).order_by("-created_on", "-pk")[:25]
        ),
        "failure_events": FAILURE_EVENTS,
        "devices": _devices_seen(request, names),
        "sessions": sessions,
        "grants": grants,
        "changes": list(
            audit.model.objects.for_user(viewer)
            .filter(Q.create([("actor__iexact", n) for n in names], connector=Q.OR))
            .order_by("-timestamp", "-pk")[:25]
        ),
        "emails": emails,
        "webhook": webhook_for(active_tenant_for(viewer)) if can_revoke else None,
    }
    # A name no record of this tenant mentions gets "no records", not the compromise playbook and a red button.
    context["unknown"] = not (
        aliases or context["recent_events"] or sessions or grants or context["changes"] or context["timeline"]
    )
    confirm = request.GET.get("confirm", "")
    if can_revoke and not context["unknown"] and confirm in ("all", "sessions", "grants"):
        active_sessions, active_grants = user_active_access(names=names, viewer=viewer)
        context["confirm_scope"] = confirm
        context["to_revoke"] = {
            "sessions": active_sessions if confirm != "grants" else [],
            "grants": active_grants if confirm != "sessions" else [],
        }
    return render(request, "authmon/activity.html", context)


def client_view(request: HttpRequest, client: str) -> HttpResponse:
    client = client.strip()[:200]
    context = {
        "subject_kind": "client",
        "subject": client,
        "timeline": activity_timeline(request.user, client=client),
        "counts": _summary_counts(request, client=client),
    }
    return render(request, "authmon/activity.html", context)


@require_POST
def tenant_switch(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.SWITCH_TENANT):
        raise PermissionDenied
    tenant = get_object_or_404(Tenant, slug=request.POST.get("tenant", ""))
    before = active_tenant_for(request.user)
    switch_tenant(request, tenant)
    if tenant != before and tenant.pk != request.user.tenant_id:
        # DESIGN section 4: another tenant's records are looked at, so that tenant keeps a trace (once per switch).
        audit_record(
            tenant=tenant,
            actor=request.user.email,
            action="view Tenant",
            target=tenant.slug,
            comments="A super admin switched the console to this tenant.",
        )
    back = safe_next(request, reverse("home"))
    if "/monitoring/" in back and back.rstrip("/")[-1].isdigit():  # a record of the tenant left behind
        back = reverse("home")
    return HttpResponseRedirect(back)


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """The icon for browsers that ask for /favicon.ico whatever the page links to."""
    return HttpResponsePermanentRedirect(static("authmon/favicon.svg"))

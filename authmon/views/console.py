"""Console pages that are not per-kind: home, user and client views, tenant switch."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from authmon import registry
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.selectors import activity_timeline, last_24h_counts
from authmon.tenancy import switch_tenant


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "authmon/home.html", {"counts": last_24h_counts(request.user)})


def _summary_counts(request: HttpRequest, *, person: str = "", client: str = "") -> dict[str, int]:
    """Failed logins (last 30 days), active sessions and active grants for a user or client."""
    from django.db.models import Q

    events, sessions, grants = registry.get("events"), registry.get("sessions"), registry.get("grants")
    since = timezone.now() - dt.timedelta(days=30)

    def match(kind: registry.LogKind) -> Q:
        q = Q()
        for name in kind.person_fields if person else kind.client_fields:
            q |= Q(**{f"{name}__iexact": person or client})
        return q

    return {
        "failed_logins": events.model.objects.for_user(request.user)
        .filter(match(events), event_type="login_failed", created_on__gte=since)
        .count(),
        "active_sessions": sessions.model.objects.for_user(request.user)
        .filter(match(sessions), status="active")
        .count(),
        "active_grants": grants.model.objects.for_user(request.user).filter(match(grants), status="active").count(),
    }


def user_view(request: HttpRequest, user: str) -> HttpResponse:
    user = user.strip()[:254]
    context = {
        "subject_kind": "user",
        "subject": user,
        "timeline": activity_timeline(request.user, person=user),
        "counts": _summary_counts(request, person=user),
        "can_revoke": has_perm(request.user, Perm.REVOKE, "sessions"),
        "activity_actions": "sessions_grants/activity_actions.html",
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
    switch_tenant(request, tenant)
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//") or ("/monitoring/" in back and back.rstrip("/")[-1].isdigit()):
        back = reverse("home")
    return HttpResponseRedirect(back)

"""Console pages that are not per-kind: home, user and client views, tenant switch."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import audit_record
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.redirects import safe_next
from authmon.selectors import last_24h_counts
from authmon.tenancy import active_tenant_for, switch_tenant
from console.selectors import client_activity, user_activity


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "authmon/home.html", {"counts": last_24h_counts(request.user)})


def user_view(request: HttpRequest, user: str) -> HttpResponse:
    """Everything about one user in one place, laid out for the guide's "Suspected account compromise" checklist."""
    context = user_activity(request.user, user.strip()[:254], confirm=request.GET.get("confirm", ""))
    context["activity_actions"] = "sessions_grants/activity_actions.html"
    return render(request, "authmon/activity.html", context)


def client_view(request: HttpRequest, client: str) -> HttpResponse:
    return render(request, "authmon/activity.html", client_activity(request.user, client.strip()[:200]))


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

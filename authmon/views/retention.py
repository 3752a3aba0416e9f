"""Retention policy per tenant and kind: super admins only, every change audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from audit.services import audit_record
from authmon import registry
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.tenancy import active_tenant_for

MAX_DAYS = 36_500  # a hundred years; 0 means keep forever


class RetentionForm(forms.Form):
    """One "days to keep" field per registered kind."""

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for kind in registry.kinds():
            self.fields[kind.name] = forms.IntegerField(
                label=kind.label,
                min_value=0,
                max_value=MAX_DAYS,
                initial=tenant.retention_days(kind.name),
                help_text="Days to keep; 0 keeps records forever.",
            )


def tenant_retention_set(*, tenant: Tenant, days: dict[str, int], actor: str) -> dict[str, tuple[int, int]]:
    """Change the tenant's retention and audit it. Returns the changes as {kind: (old, new)}."""
    changes = {}
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        for kind, value in days.items():
            old = locked.retention_days(kind)
            if old != value:
                setattr(locked, f"retention_{kind}_days", value)
                changes[kind] = (old, value)
        if changes:
            locked.save(update_fields=[f"retention_{kind}_days" for kind in changes])
            audit_record(
                tenant=locked,
                actor=actor,
                action="update TenantSettings",
                target=f"{locked.slug} retention",
                old={f"retention_{k}_days": old for k, (old, _) in changes.items()},
                new={f"retention_{k}_days": new for k, (_, new) in changes.items()},
                comments="Retention policy changed",
            )
    return changes


def retention_view(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.SET_RETENTION):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    form = RetentionForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        changes = tenant_retention_set(tenant=tenant, days=form.cleaned_data, actor=request.user.email)
        if changes:
            text = ", ".join(f"{registry.get(k).label}: {old} → {new} days" for k, (old, new) in changes.items())
            messages.success(request, f"Retention updated ({text}). The nightly trim applies it.")
        else:
            messages.info(request, "Nothing changed.")
        return HttpResponseRedirect(reverse("retention"))
    return render(
        request, "authmon/retention.html", {"form": form, "tenant": tenant}, status=400 if form.errors else 200
    )

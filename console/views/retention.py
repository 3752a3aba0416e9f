"""Retention policy per tenant and kind: super admins only, every change audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from authmon import registry
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.retention import MAX_DAYS, PREVIEW_CAP, RetentionCut, retention_all, retention_preview, retention_set
from authmon.tenancy import active_tenant_for


class RetentionForm(forms.Form):
    """One "days to keep" field per registered kind."""

    def __init__(self, *args: object, tenant: Tenant, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        current = retention_all(tenant)
        for kind in registry.kinds():
            self.fields[kind.name] = forms.IntegerField(
                label=kind.label,
                min_value=0,
                max_value=MAX_DAYS,
                initial=current[kind.name],
                help_text="Days to keep; 0 keeps records forever.",
            )


def retention_view(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.SET_RETENTION):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    form = RetentionForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        # A shorter retention makes the next nightly trim delete at once what it no longer keeps: the page first
        # says how much, and saves only when that very change is confirmed (a second POST carrying its summary).
        cuts = retention_preview(tenant=tenant, days=form.cleaned_data)
        summary = _cuts_summary(cuts)
        if cuts and request.POST.get("confirm", "") != summary:
            context = {"form": form, "tenant": tenant, "cuts": cuts, "confirm": summary, "cap": f"{PREVIEW_CAP:,}"}
            return render(request, "authmon/retention.html", context)
        changes = retention_set(tenant=tenant, days=form.cleaned_data, actor=request.user.email)
        if changes:
            text = ", ".join(f"{registry.get(k).label}: {old} → {new} days" for k, (old, new) in changes.items())
            messages.success(request, f"Retention updated ({text}). The nightly trim applies it.")
        else:
            messages.info(request, "Nothing changed.")
        return HttpResponseRedirect(reverse("retention"))
    return render(
        request, "authmon/retention.html", {"form": form, "tenant": tenant}, status=400 if form.errors else 200
    )


def _cuts_summary(cuts: list[RetentionCut]) -> str:
    """The shortenings a confirmation stands for, e.g. "events:365:20": a confirmation of other values (edited, or
    changed by someone else meanwhile) is no confirmation."""
    return ",".join(f"{cut.kind.name}:{cut.old_days}:{cut.new_days}" for cut in cuts)

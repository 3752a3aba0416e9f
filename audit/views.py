"""The "Verify integrity" action of the Audit Logs page (super admins): walk the active tenant's audit chain."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from audit.chain import chain_verify
from audit.services import audit_record
from authmon import dbroles, registry
from authmon.permissions import Perm, has_perm
from authmon.tenancy import active_tenant_for


@require_http_methods(["GET", "POST"])
def chain_verify_view(request: HttpRequest) -> HttpResponse:
    """GET explains the check; POST runs it and shows the result (and leaves an audit record of who checked)."""
    if not has_perm(request.user, Perm.VERIFY, "audit"):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    kind = registry.get("audit")
    defended, defences = dbroles.defences_state()
    context = {"kind": kind, "tenant": tenant, "report": None, "defended": defended, "defences": defences}
    if request.method == "POST":
        report = chain_verify(tenant=tenant)
        audit_record(
            tenant=tenant,
            actor=request.user.email,
            action="verify AuditLog",
            target=kind.label,
            new={"ok": report.ok, "checked": report.checked, "broken_seq": report.broken_seq},
            comments=report.summary(),
        )
        context["report"] = report
    return render(request, "audit/verify.html", context, status=200)

"""The active tenant's API tokens: super admins list them and revoke one (POST, after a confirmation; audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from authmon.api_tokens import api_token_revoke, api_tokens_of
from authmon.models import ApiToken
from authmon.permissions import Perm, has_perm
from authmon.tenancy import active_tenant_for


def _token_of_active_tenant(request: HttpRequest, pk: int | str) -> ApiToken:
    """Another tenant's token is not found here: a super admin switches tenant first (and that is audited)."""
    if int(pk) >= 2**63:  # beyond the id column: no such token, not a database error
        raise Http404("No such API token in this tenant.")
    token = ApiToken.objects.filter(pk=pk, tenant=active_tenant_for(request.user)).select_related("tenant").first()
    if token is None:
        raise Http404("No such API token in this tenant.")
    return token


def api_tokens_view(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.MANAGE_API_TOKENS):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    confirm = request.GET.get("confirm", "")
    to_revoke = None
    if confirm.isdecimal() and len(confirm) <= 18:  # longer is no id (and int() refuses over 4,300 digits)
        to_revoke = _token_of_active_tenant(request, confirm)
        if to_revoke.revoked_at is not None:
            to_revoke = None
    context = {"tenant": tenant, "tokens": api_tokens_of(tenant=tenant), "to_revoke": to_revoke}
    return render(request, "authmon/api_tokens.html", context)


@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_perm(request.user, Perm.MANAGE_API_TOKENS):
        raise PermissionDenied
    token = _token_of_active_tenant(request, pk)
    result = api_token_revoke(token=token, actor=request.user.email, comment=request.POST.get("comment", ""))
    if result.revoked_now:
        messages.success(request, f"API token {token.handle} revoked: it no longer authenticates.")
    else:
        messages.info(request, f"API token {token.handle} was already revoked.")
    return HttpResponseRedirect(reverse("api_tokens"))

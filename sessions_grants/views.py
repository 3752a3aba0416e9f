"""Revocation endpoints: POST only (DESIGN 6b); a GET answers 405.

The confirmation that says what will happen is part of the page that shows what is revoked: the session's or
grant's details page with ``?confirm=revoke`` (where the Remove icon leads), and the user view with
``?confirm=all|sessions|grants`` (where "Contain account" leads). Both forms POST here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from authmon.permissions import Perm, has_perm
from authmon.redirects import safe_next
from authmon.registry import LogKind
from authmon.tenancy import active_tenant_for
from sessions_grants.models import Session
from sessions_grants.services import grant_revoke, session_revoke, user_revoke_all

ACCESS_TOKENS = "Access tokens already issued stay valid until they expire."
CONSEQUENCES = {
    "sessions": f"The user is signed out of this application at once and must sign in again. {ACCESS_TOKENS}",
    "grants": "The application loses this consent at once: every refresh token issued under the grant stops "
    f"working. {ACCESS_TOKENS}",
}
SCOPES = ("all", "sessions", "grants")


@require_POST
def revoke_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    """Revoke one session or grant (an optional ``comment`` goes into the audit record)."""
    if not has_perm(request.user, Perm.REVOKE, kind.name):
        raise PermissionDenied
    record = kind.model.objects.for_user(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404(f"No such {kind.singular.lower()} in this tenant.")
    comment = request.POST.get("comment", "")
    if isinstance(record, Session):
        changed = session_revoke(session=record, actor=request.user, comment=comment)
        what = f"Session {record.session_id}"
    else:
        changed = grant_revoke(grant=record, actor=request.user, comment=comment)
        what = f"Grant {record.grant_id}"
    if changed:
        messages.success(request, f"{what} revoked. {CONSEQUENCES[kind.name]}")
    else:
        messages.info(request, f"{what} was already revoked; nothing changed.")
    return HttpResponseRedirect(safe_next(request, reverse(kind.url_name("detail"), args=[pk])))


@require_POST
def revoke_all_view(request: HttpRequest, user: str) -> HttpResponse:
    """Mass revocation for one user: all sessions, all grants, or both ("Contain account"); lists what it did."""
    if not has_perm(request.user, Perm.REVOKE, "sessions") or not has_perm(request.user, Perm.REVOKE, "grants"):
        raise PermissionDenied
    user = user.strip()[:254]
    scope = request.POST.get("scope", "all")
    if scope not in SCOPES:
        scope = "all"
    result = user_revoke_all(
        user=user,
        actor=request.user,
        tenant=active_tenant_for(request.user),
        sessions=scope in {"all", "sessions"},
        grants=scope in {"all", "grants"},
        comment=request.POST.get("comment", ""),
    )
    return render(
        request,
        "sessions_grants/revoked_all.html",
        {"subject": user, "scope": scope, "result": result, "access_tokens": ACCESS_TOKENS},
    )

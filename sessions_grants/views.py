"""Revocation pages: a confirmation that says what will happen, then a POST that does it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from authmon.permissions import Perm, has_perm
from authmon.registry import LogKind
from authmon.tenancy import active_tenant_for
from sessions_grants.models import AccessStatus, Grant, Session
from sessions_grants.services import grant_revoke, session_revoke, user_match, user_revoke_all

CONSEQUENCES = {
    "sessions": "The user is signed out of this application at once and must sign in again. Access tokens "
    "already issued stay valid until they expire.",
    "grants": "The application loses this consent at once: every refresh token issued under the grant stops "
    "working. Access tokens already issued stay valid until they expire.",
}


def revoke_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    if not has_perm(request.user, Perm.REVOKE, kind.name):
        raise PermissionDenied
    record = kind.model.objects.for_user(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404
    detail_url = reverse(kind.url_name("detail"), args=[pk])
    if request.method != "POST":
        return render(
            request,
            "sessions_grants/confirm_revoke.html",
            {"kind": kind, "record": record, "consequence": CONSEQUENCES[kind.name], "detail_url": detail_url},
        )
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
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = detail_url
    return HttpResponseRedirect(back)


def revoke_all_view(request: HttpRequest, user: str) -> HttpResponse:
    """Mass revocation for one user: all sessions, all grants, or both ("contain account")."""
    if not has_perm(request.user, Perm.REVOKE, "sessions") or not has_perm(request.user, Perm.REVOKE, "grants"):
        raise PermissionDenied
    scope = request.POST.get("scope", request.GET.get("scope", "all"))
    if scope not in {"all", "sessions", "grants"}:
        scope = "all"
    tenant = active_tenant_for(request.user)
    active_sessions = Session.objects.for_user(request.user).filter(user_match(user), status=AccessStatus.ACTIVE)
    active_grants = Grant.objects.for_user(request.user).filter(user_match(user), status=AccessStatus.ACTIVE)
    if request.method != "POST":
        return render(
            request,
            "sessions_grants/confirm_revoke_all.html",
            {
                "subject": user,
                "scope": scope,
                "sessions": list(active_sessions[:200]) if scope in {"all", "sessions"} else [],
                "grants": list(active_grants[:200]) if scope in {"all", "grants"} else [],
                "consequences": CONSEQUENCES,
            },
        )
    result = user_revoke_all(
        user=user,
        actor=request.user,
        tenant=tenant,
        sessions=scope in {"all", "sessions"},
        grants=scope in {"all", "grants"},
        comment=request.POST.get("comment", ""),
    )
    return render(request, "sessions_grants/revoked_all.html", {"subject": user, "result": result})

"""Revocation endpoints. Nothing changes on a GET (DESIGN 6b).

The confirmation that says what will happen is part of the page that shows what is revoked: the session's or
grant's details page with ``?confirm=revoke`` (where the Remove icon leads), and the user view with
``?confirm=all|sessions|grants`` (where "Contain account" leads). Both forms POST here; a GET answers 405.

Bulk revocation from the list (``/monitoring/sessions/revoke/``, ``/monitoring/grants/revoke/``): a GET is the
confirmation, of the rows ticked on the list (``pk``, repeatable) or of every active row the list's filters select
that is older than ``older_than`` days; it names the rows it shows, and its form POSTs their keys (``ids``) with the
comment back to the same URL.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from authmon.permissions import Perm, has_perm
from authmon.redirects import safe_next
from authmon.registry import LogKind
from authmon.tables import ShortIdColumn
from authmon.tenancy import active_tenant_for
from sessions_grants.models import BULK_REVOKE_MAX, Session
from sessions_grants.selectors import RevokePreview, revoke_preview_older, revoke_preview_selected
from sessions_grants.services import BulkRevokeTooLarge, grant_revoke, records_revoke, session_revoke, user_revoke_all

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


BULK_PARAMS = ("pk", "ids", "mode", "older_than", "comment", "back", "cursor", "csrfmiddlewaretoken")
OLDER_THAN_DEFAULT, OLDER_THAN_MAX = 30, 36500


class BadBulkRequest(ValueError):
    """A bulk revocation's parameters cannot be read; nothing is shown or revoked."""


def _ids(data: QueryDict) -> list[int]:
    """The record keys named by ``pk`` (repeatable) and ``ids`` (comma-separated), each a positive integer."""
    values = [v.strip() for v in [*data.getlist("pk"), *data.get("ids", "").split(",")] if v.strip()]
    if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values):
        raise BadBulkRequest("Record keys are whole numbers.")
    return [int(v) for v in values]


def _older_than(data: QueryDict) -> int:
    text = data.get("older_than", "").strip() or str(OLDER_THAN_DEFAULT)
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and 1 <= int(text) <= OLDER_THAN_MAX):
        raise BadBulkRequest(f"'Older than' takes a number of days from 1 to {OLDER_THAN_MAX:,}.")
    return int(text)


def _list_params(data: QueryDict) -> QueryDict:
    """The list's own parameters (filters, question, range), without those of the bulk form."""
    params = data.copy()
    for key in BULK_PARAMS:
        params.pop(key, None)
    return params


@require_http_methods(["GET", "HEAD", "POST"])
def bulk_revoke_view(request: HttpRequest, kind: LogKind) -> HttpResponse:
    """Revoke many sessions or grants: a GET shows what would be revoked and asks for a comment; the POST does it."""
    if not has_perm(request.user, Perm.REVOKE, kind.name):
        raise PermissionDenied
    try:
        return _bulk_revoke(request, kind) if request.method == "POST" else _bulk_confirm(request, kind)
    except BadBulkRequest as exc:
        return render(request, "authmon/bad_request.html", {"message": str(exc)}, status=400)


def _bulk_confirm(request: HttpRequest, kind: LogKind) -> HttpResponse:
    params = _list_params(request.GET)
    if request.GET.get("mode") == "older":
        days = _older_than(request.GET)
        preview = revoke_preview_older(kind=kind, viewer=request.user, params=params, days=days)
    else:
        preview = revoke_preview_selected(kind=kind, viewer=request.user, pks=_ids(request.GET))
    return _confirm(request, kind, params, preview)


def _bulk_revoke(request: HttpRequest, kind: LogKind) -> HttpResponse:
    ids = _ids(request.POST)
    params = _list_params(QueryDict(request.POST.get("back", "")))
    comment = request.POST.get("comment", "").strip()
    if not comment:
        preview = revoke_preview_selected(kind=kind, viewer=request.user, pks=ids)
        return _confirm(request, kind, params, preview, error="Nothing revoked yet: the comment is required.")
    try:
        result = records_revoke(
            model=kind.model, tenant=active_tenant_for(request.user), pks=ids, actor=request.user, comment=comment
        )
    except BulkRevokeTooLarge as exc:
        raise BadBulkRequest(f"Nothing revoked: {exc}") from exc
    audit = QueryDict(mutable=True)
    audit.update({"preset": "last24h", "action": f"revoke {kind.model.__name__}", "comments": comment[:100]})
    audit_url = f"{reverse('audit:auditlog_list')}?{audit.urlencode()}"
    context = {**_page(kind, params), "result": result, "audit_url": audit_url}
    return render(request, "sessions_grants/bulk_revoked.html", context)


def _page(kind: LogKind, params: QueryDict) -> dict[str, Any]:
    back = params.urlencode()
    return {
        "kind": kind,
        "back": back,
        "back_url": f"{kind.list_url}?{back}" if back else kind.list_url,
        "consequences": CONSEQUENCES[kind.name],
        "cap": BULK_REVOKE_MAX,
        # Ids the list shortens (session ids: ShortIdColumn) are shortened here too; others are shown whole.
        "short_ids": isinstance(kind.table.base_columns.get(kind.model.record_key), ShortIdColumn),
    }


def _confirm(
    request: HttpRequest, kind: LogKind, params: QueryDict, preview: RevokePreview, error: str = ""
) -> HttpResponse:
    context = {**_page(kind, params), "preview": preview, "error": error}
    return render(request, "sessions_grants/bulk_revoke_confirm.html", context, status=400 if error else 200)

"""The generic views every log kind gets from the registry: list, details, column choice.

Each kind configures them through its :class:`~authmon.registry.LogKind`; nothing here knows a particular kind.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from authmon import exports, registry
from authmon.daterange import PRESETS
from authmon.paging import CursorError, paginate, total_measure
from authmon.permissions import Perm, has_perm
from authmon.preferences import columns_choose, hidden_columns, recent_question_remember, recent_questions
from authmon.redirects import safe_next
from authmon.registry import LogKind
from authmon.restore import RestoreError, archive_read, archive_verify
from authmon.selectors import log_search
from authmon.tenancy import active_tenant_for
from console import runs

PER_PAGE = 50
# Auto-refresh (``refresh=<seconds>``): the default interval the toggle offers, and the bounds a URL is held to so a
# hand-edited link cannot make every open tab poll the database each second.
REFRESH_DEFAULT, REFRESH_MIN, REFRESH_MAX = 30, 10, 3600


def list_view(request: HttpRequest, kind: LogKind) -> HttpResponse:
    if not has_perm(request.user, Perm.VIEW, kind.name):
        raise PermissionDenied
    search = log_search(kind, request.user, request.GET)
    page = total = None
    if search.runnable:
        cursor = request.GET.get("cursor") or None
        try:
            page = paginate(search.queryset, sort=search.sort, cursor=cursor, per_page=PER_PAGE)
        except CursorError as exc:
            search.errors.append(str(exc))
            page = paginate(search.queryset, sort=search.sort, cursor=None, per_page=PER_PAGE)
        if page.rows:
            total = total_measure(search.queryset, page=page)
    table = kind.table(page.rows if page else [], order_by=search.sort, request=request)
    hidden = hidden_columns(request.user, kind)
    forbidden = {
        column.name
        for column in table.columns.iterall()
        if getattr(column.column, "required_perm", None)
        and not has_perm(request.user, column.column.required_perm, kind.name)
    }
    for column in table.columns.iterall():
        if column.name in hidden | forbidden:
            table.columns.hide(column.name)
    if page and page.rows:
        table.offer_value_filters(search.filterset, request)
    if search.interpretation is not None:
        recent_question_remember(user=request.user, kind=kind, question=search.question)
    context = {
        "kind": kind,
        "search": search,
        "page": page,
        "total": total,
        "table": table,
        "all_columns": [
            (c.name, c.header, c.name not in hidden) for c in table.columns.iterall() if c.name not in forbidden
        ],
        "presets": PRESETS,
        "can_export": has_perm(request.user, Perm.EXPORT, kind.name),
        "can_restore": has_perm(request.user, Perm.RESTORE, kind.name),
        "can_revoke": has_perm(request.user, Perm.REVOKE, kind.name),
        "params": request.GET,
        "recent_questions": recent_questions(request.user, kind),
        "refresh": _refresh_seconds(request.GET.get("refresh", "")),
        "refresh_default": REFRESH_DEFAULT,
    }
    template = "authmon/_list_update.html" if request.headers.get("HX-Request") else "authmon/list.html"
    return render(request, template, context)


def _refresh_seconds(value: str) -> int | None:
    """The auto-refresh interval that ``refresh`` asks for, within bounds; None (off) for anything but a number of
    seconds. The parameter selects no rows, so an odd value only leaves the toggle off, as without it."""
    value = value.strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses; and a number of thousands of digits is
    # beyond what int() converts, so a long one is just "the longest interval" without converting it.
    if not value or not value.isascii() or not value.isdigit() or not value.strip("0"):
        return None
    if len(value.lstrip("0")) > len(str(REFRESH_MAX)):
        return REFRESH_MAX
    return min(max(int(value), REFRESH_MIN), REFRESH_MAX)


def detail_view(request: HttpRequest, kind: LogKind, pk: int) -> HttpResponse:
    if not has_perm(request.user, Perm.VIEW, kind.name):
        raise PermissionDenied
    record = kind.model.objects.for_user(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404(f"No such {kind.label.lower().rstrip('s')} in this tenant.")
    fields = []
    skip = set(kind.detail_skip)
    for f in kind.data_fields:
        if f.name in skip:
            continue
        value = getattr(record, f.name)
        is_json = f.get_internal_type() == "JSONField"
        display = record._get_FIELD_display(f) if f.choices else value
        fields.append(
            {
                "name": f.name,
                "label": kind.table.base_columns[f.name].verbose_name
                if f.name in kind.table.base_columns and kind.table.base_columns[f.name].verbose_name
                else f.verbose_name,
                "value": display,
                "json": json.dumps(value, indent=2, sort_keys=True) if is_json else None,
                "long": is_json or f.get_internal_type() == "TextField",
                "person": f.name in kind.person_fields and _looks_like_user(value),
                "client": f.name in kind.client_fields and bool(value) and "/" not in str(value),
                "datetime": f.get_internal_type() == "DateTimeField",
            }
        )
    context = {
        "kind": kind,
        "record": record,
        "fields": fields,
        "detail_template": kind.detail_template,
        "detail_actions": kind.detail_actions_template,
        "can_revoke": has_perm(request.user, Perm.REVOKE, kind.name),
        "can_retry": has_perm(request.user, Perm.RETRY, kind.name),
    }
    return render(request, "authmon/detail.html", context)


def _looks_like_user(value: Any) -> bool:
    """Audit targets and subjects are users only sometimes; link those that look like an e-mail or a user id."""
    text = str(value or "")
    return ("@" in text or text.isdigit()) and "/" not in text


@require_POST
def columns_view(request: HttpRequest, kind: LogKind) -> HttpResponse:
    """Remember which columns this user shows on this page."""
    if not has_perm(request.user, Perm.VIEW, kind.name):
        raise PermissionDenied
    columns_choose(user=request.user, kind=kind, shown=request.POST.getlist("show"))
    messages.success(request, "Column choice saved.")
    return HttpResponseRedirect(safe_next(request, reverse(kind.url_name("list"))))


def export_view(request: HttpRequest, kind: LogKind) -> HttpResponse:
    """Download what the page's filters select, as sealed JSON or as CSV of the visible columns."""
    if not has_perm(request.user, Perm.EXPORT, kind.name):
        raise PermissionDenied
    back = f"{reverse(kind.url_name('list'))}?{_list_params(request)}"
    try:
        fmt = exports.parse_format(request.GET.get("format"))
        limit = exports.parse_limit(request.GET.get("limit"))
    except exports.ExportError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    search = log_search(kind, request.user, request.GET)
    if not search.runnable:
        messages.error(request, f"Nothing exported: {search.question_error.message}")
        return HttpResponseRedirect(back)
    if search.errors:
        # The page shows the rows without a filter it could not read; an export must not quietly hold more than asked.
        for error in search.errors:
            messages.error(request, f"Nothing exported: {error}")
        return HttpResponseRedirect(back)
    tenant = active_tenant_for(request.user)
    filters = {**exports.filters_of(request.GET.lists()), **exports.filters_of(search.defaults.items())}
    columns = _export_columns(request, kind)
    if limit > exports.SYNC_EXPORT_MAX:
        # A job writes a file on the server and mails the requester: it starts only by a CSRF-protected POST, so a
        # link on another site cannot start one (DESIGN section 6b). A GET shows what would be exported.
        if request.method != "POST":
            context = {"kind": kind, "fmt": fmt, "limit": limit, "search": search, "back": back}
            return render(request, "authmon/export_confirm.html", {**context, "action": request.get_full_path()})
        runs.export_record(kind=kind, actor=request.user.email, tenant=tenant, fmt=fmt, limit=limit, filters=filters)
        job = runs.export_job_start(
            kind=kind,
            user=request.user,
            tenant=tenant,
            params=request.GET.lists(),
            fmt=fmt,
            limit=limit,
            columns=[name for name, _header in columns],
            filters=filters,
        )
        messages.info(request, f"Exporting up to {limit:,} {kind.noun} as a job; the download appears here when done.")
        return HttpResponseRedirect(reverse(registry.get("jobs").url_name("detail"), args=[job.pk]))
    runs.export_record(kind=kind, actor=request.user.email, tenant=tenant, fmt=fmt, limit=limit, filters=filters)
    queryset = search.queryset.order_by(*_order(search.sort))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = f"authmon-{tenant.slug}-{kind.name}-{stamp}.{fmt}"
    if fmt == "json":
        body = exports.stream_json(kind, queryset, tenant_slug=tenant.slug, filters=filters, limit=limit)
        response = StreamingHttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        body = exports.stream_csv(kind.table, queryset, columns=columns, limit=limit)
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _export_columns(request: HttpRequest, kind: LogKind) -> list[tuple[str, str]]:
    """The columns this user sees on the page, in page order: what a CSV export holds."""
    table = kind.table([])
    for name in hidden_columns(request.user, kind):
        if name in table.columns:
            table.columns.hide(name)
    return exports.export_columns(table)


def restore_view(request: HttpRequest, kind: LogKind) -> HttpResponse:
    """Upload a sealed JSON export to restore; it is checked at once, then imported as a job with progress."""
    if not has_perm(request.user, Perm.RESTORE, kind.name):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    context: dict[str, Any] = {"kind": kind, "max_mb": settings.AUTHMON_RESTORE_MAX_BYTES // (1024 * 1024)}
    if request.method != "POST":
        return render(request, "authmon/restore.html", context)
    upload = request.FILES.get("archive")
    error = None
    raw = b""
    if upload is None:
        error = "Choose a JSON file exported from authmon."
    elif upload.size > settings.AUTHMON_RESTORE_MAX_BYTES:
        error = f"The file is larger than the {context['max_mb']} MB upload limit."
    else:
        raw = upload.read()
        try:
            archive_verify(archive_read(raw), tenant=tenant, kind_name=kind.name)
        except RestoreError as exc:
            error = str(exc)
    if error is None:
        try:
            job = runs.restore_start(
                kind=kind, user=request.user, tenant=tenant, file_name=upload.name, size=upload.size, chunks=[raw]
            )
        except runs.RestoreBusy as exc:
            error = str(exc)
    if error is not None:
        context["error"] = error
        return render(request, "authmon/restore.html", context, status=400)
    messages.info(request, "The archive checked out. Restoring it now; progress is shown below.")
    return HttpResponseRedirect(reverse(registry.get("jobs").url_name("detail"), args=[job.pk]))


def _order(sort: str) -> list[str]:
    return [sort, "-pk" if sort.startswith("-") else "pk"]


def _list_params(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in ("format", "limit", "cursor"):
        params.pop(key, None)
    return params.urlencode()


def urls_for(kind: LogKind) -> list[URLPattern]:
    """The URL patterns of one kind; included under ``monitoring/<kind>/`` with the kind's name as namespace."""
    name = kind.model_name
    return [
        path("", list_view, {"kind": kind}, name=f"{name}_list"),
        path("<int:pk>/", detail_view, {"kind": kind}, name=f"{name}_detail"),
        path("columns/", columns_view, {"kind": kind}, name=f"{name}_columns"),
        path("export/", export_view, {"kind": kind}, name=f"{name}_export"),
        *([path("restore/", restore_view, {"kind": kind}, name=f"{name}_restore")] if kind.restorable else []),
        *(
            path(f"<int:pk>/{action}/", view, {"kind": kind}, name=f"{name}_{action}")
            for action, view in kind.record_actions.items()
        ),
        *(
            path(f"{action}/", view, {"kind": kind}, name=f"{name}_bulk_{action}")
            for action, view in kind.bulk_actions.items()
        ),
    ]

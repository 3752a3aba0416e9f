"""The generated per-kind routes: one set of generic handlers bound to every registered kind.

For each kind (DESIGN section 6): ``POST /{kind}/`` (ingest, through :func:`authmon.ingest.records_ingest`),
``GET /{kind}/`` (newest first with a keyset cursor; ``q``, ``limit``, ``cursor`` and any field as an exact filter),
``GET /{kind}/{id}/`` and, for upserted kinds, ``GET /{kind}/by-<key>/{key}/``. Generating them from the registry,
like the console's pages, gives every kind its own paths, operation ids and record schema, and a new kind needs
nothing here. A question goes through the framework's :func:`authmon.questions.question_interpret`, the same reader
as the list page's, and its error becomes the 400 ``{"error": "query", ...}``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, models
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from authmon import registry
from authmon.api_auth import ingest_auth, read_auth, request_tenant, token_actor
from authmon.api_errors import (
    ApiError,
    BatchErrors,
    Detail,
    ParamError,
    QueryError,
    batch_errors,
    cursor_error,
    not_found_error,
    param_error,
)
from authmon.api_io import aware, page_limit, read_records, single_params, to_json
from authmon.ingest import IngestConflictError, IngestValidationError, input_fields, records_ingest
from authmon.models import Tenant
from authmon.paging import CursorError, paginate
from authmon.questions import question_interpret
from authmon.registry import LogKind
from console.api.schemas import (
    IngestOut,
    filterable,
    ingest_body,
    list_parameters,
    record_out,
    record_out_schema,
    record_page_schema,
)
from nlq import NLQError

logger = logging.getLogger(__name__)

RESERVED_PARAMS = ("q", "limit", "cursor")
_MAX_PK = 2**63 - 1

if not apps.ready:  # the routes are generated from the registry, which AppConfig.ready() fills
    raise RuntimeError("console.api was imported before the Django apps were ready.")

router = Router()


def _exact_filter(kind: LogKind, name: str, raw: str) -> tuple[Q, str]:
    """The condition for ``?name=raw`` and how to describe it; 400 for unknown fields or impossible values."""
    fields = filterable(kind)
    field = fields.get(name)
    if field is None:
        usable = [n for n, f in fields.items() if not isinstance(f, models.JSONField)]
        raise param_error(
            name, f"Unknown parameter '{name}'. Use {', '.join(RESERVED_PARAMS)} or a field: {', '.join(usable)}."
        )
    label = name.replace("_", " ")
    if isinstance(field, models.JSONField):
        raise param_error(name, f"{name} holds JSON and cannot be an exact filter; ask with q instead.")
    if raw == "" and field.null:
        return Q(**{f"{name}__isnull": True}), f"{label} is empty"
    if field.choices and raw not in {str(value) for value, _ in field.flatchoices}:
        allowed = ", ".join(str(value) for value, _ in field.flatchoices)
        raise param_error(name, f"{name} must be one of: {allowed}.")
    try:
        value = field.to_python(raw)
        if isinstance(value, dt.datetime):
            value = aware(value).astimezone(dt.UTC)
        if value is not None:
            field.run_validators(value)
    except DjangoValidationError as exc:
        raise param_error(name, f"{name}: {' '.join(exc.messages)}") from None
    except OverflowError:
        raise param_error(name, f"{name}: the date-time is out of range.") from None
    return Q(**{name: value}), f"{label} is {to_json(value)}"


def _interpret(kind: LogKind, tenant: Tenant, question: str) -> tuple[Q, str]:
    """Compile ``q`` with the query language (DESIGN section 7); 400 with position and suggestions if it fails."""
    try:
        result = question_interpret(kind=kind, question=question, now=timezone.now(), tz=tenant.tz)
    except NLQError as exc:
        raise ApiError(400, {"error": "query", **exc.as_dict()}) from None
    return result.q, result.summary


def _add_kind_routes(kind: LogKind) -> None:
    """Bind the generic handlers to one kind: ingest, list, detail and (for upserted kinds) lookup by key."""
    record_model = record_out_schema(kind)
    list_model = record_page_schema(kind, record_model)
    sort = f"-{kind.time_field}"
    tags = [kind.name]
    base = f"/{kind.name}/"
    fields = [f.name for f in input_fields(kind)]
    after_ingest = kind.after_ingest

    @router.post(
        base,
        auth=ingest_auth,
        response={201: IngestOut, 400: BatchErrors, 401: Detail, 403: Detail, 409: Detail, 413: Detail},
        operation_id=f"{kind.name}_ingest",
        url_name=f"{kind.name}_ingest",
        summary=f"Ingest {kind.name} records",
        description=(
            f"A batch of up to {settings.API_MAX_RECORDS} {kind.name} records ({settings.API_MAX_BYTES} bytes). "
            f"Fields: {', '.join(fields)}. A record whose external_id exists is a duplicate. "
            + (f"Upserted by {kind.upsert_key}: fields sent replace stored ones. " if kind.upsert_key else "")
            + (
                "A revoked record stays revoked whatever status is sent (counted as kept_revoked, audited). "
                if kind.kept_revoked_audit
                else ""
            )
            + "Any invalid record rejects the whole batch."
        ),
        tags=tags,
        openapi_extra=ingest_body(kind),
    )
    def ingest(request: HttpRequest) -> Any:
        records = read_records(request)
        started = timezone.now()
        try:
            result = records_ingest(
                kind=kind,
                tenant=request_tenant(request),
                records=records,
                actor=token_actor(request),
                token=request.auth,  # type: ignore[attr-defined]
            )
        except IngestValidationError as exc:
            raise batch_errors(exc.errors) from None
        except IngestConflictError as exc:
            raise ApiError(409, {"detail": str(exc)}) from None
        if after_ingest and (result.created or result.updated):
            # e.g. sessions and grants: push the revocations this batch brought to the tenant's webhook
            after_ingest(kind=kind, tenant=request_tenant(request), since=started)
        return Status(201, result.as_dict())

    @router.get(
        base,
        auth=read_auth,
        response={200: list_model, 400: QueryError | ParamError, 401: Detail, 403: Detail},
        operation_id=f"{kind.name}_list",
        url_name=f"{kind.name}_list",
        summary=f"List {kind.name} records",
        description=f"Newest first (by {kind.time_field}, then id). Any field is an exact filter.",
        tags=tags,
        openapi_extra={"parameters": list_parameters(kind)},
    )
    def list_records(request: HttpRequest) -> Any:
        tenant = request_tenant(request)
        params = single_params(request)
        limit = page_limit(params.pop("limit", None))
        cursor = params.pop("cursor", "").strip() or None
        question = params.pop("q", "").strip()
        queryset = kind.model.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        described: list[str] = []
        if question:
            condition, summary = _interpret(kind, tenant, question)
            queryset = queryset.filter(condition)
            described.append(f"({summary})" if params and " OR " in summary.upper() else summary)
        for name, raw in params.items():
            condition, summary = _exact_filter(kind, name, raw)
            queryset = queryset.filter(condition)
            described.append(summary)
        try:
            page = paginate(queryset, sort=sort, cursor=cursor, per_page=limit)
        except CursorError:
            raise cursor_error() from None
        except DataError:
            # A value the database cannot compare with a column (e.g. a number beyond bigint in a question):
            # the input's fault, so a 400, but logged because the query language should have refused it.
            logger.warning("list %s: the database refused a filter value", kind.name, exc_info=True)
            raise param_error(
                "q" if question else None, "A value in the question or filters is out of range for its field."
            ) from None
        return {
            "results": [record_out(kind, row, tenant) for row in page.rows],
            "next_cursor": page.next_cursor,
            "interpretation": " AND ".join(described) or f"all {kind.noun}",
        }

    def _one(request: HttpRequest, **lookup: Any) -> dict[str, Any]:
        tenant = request_tenant(request)
        row = kind.model.objects.for_tenant(tenant).filter(**lookup).first()  # type: ignore[attr-defined]
        if row is None:
            raise not_found_error(f"No {kind.name} record with that {next(iter(lookup))} in this tenant.")
        return record_out(kind, row, tenant)

    @router.get(
        f"{base}{{int:record_id}}/",
        auth=read_auth,
        response={200: record_model, 401: Detail, 403: Detail, 404: Detail},
        operation_id=f"{kind.name}_detail",
        url_name=f"{kind.name}_detail",
        summary=f"One {kind.name} record",
        tags=tags,
    )
    def detail(request: HttpRequest, record_id: int) -> Any:
        if not 1 <= record_id <= _MAX_PK:
            raise not_found_error(f"No {kind.name} record with that id in this tenant.")
        return _one(request, pk=record_id)

    if kind.upsert_key is None:
        return
    key = kind.upsert_key
    max_length = getattr(kind.model._meta.get_field(key), "max_length", None)

    def by_key(request: HttpRequest, **path: str) -> Any:
        value = path[key]
        if "\x00" in value or (max_length and len(value) > max_length):
            raise not_found_error(f"No {kind.name} record with that {key} in this tenant.")
        return _one(request, **{key: value})

    # The path parameter is named after the key (session_id, grant_id) in the signature ninja reads.
    by_key.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HttpRequest),
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=str),
        ]
    )
    router.get(
        f"{base}by-{key.replace('_', '-')}/{{path:{key}}}/",
        auth=read_auth,
        response={200: record_model, 401: Detail, 403: Detail, 404: Detail},
        operation_id=f"{kind.name}_by_{key}",
        url_name=f"{kind.name}_by_{key}",
        summary=f"The {kind.name} record with this {key}",
        description=f"Look a record up by {key}, e.g. for a status check.",
        tags=tags,
    )(by_key)


for _kind in registry.kinds():
    _add_kind_routes(_kind)

"""HTTP API (DESIGN section 6): ingest and read every registered record kind with a bearer token.

The routes are generated from the log-kind registry, like the console's pages: one set of generic handlers is
bound to each kind, so every kind gets its own paths and its own record schema in ``/api/v1/openapi.json`` and a
new kind needs nothing here. Per kind:

- ``POST /{kind}/``: a JSON array of records, or NDJSON (``Content-Type: application/x-ndjson``, or sniffed:
  several JSON objects one per line; a single object is a batch of one). Ingest rules live in
  the ingest module. An empty array is accepted (201, all counts zero) so that forwarders can flush
  unconditionally; an empty body is a 400.
- ``GET /{kind}/``: newest first with a keyset cursor; ``q`` (a question), ``limit``, ``cursor`` and any field as an
  exact filter (a date-time without an offset is UTC; an empty value on a nullable field means "is empty").
- ``GET /{kind}/{id}/`` and, for upserted kinds, ``GET /{kind}/by-<key>/{key}/`` (sessions by session id).
- ``GET /revocations/``: session and grant revocations, oldest first, for the identity service to poll.

Errors: 400 ``{"errors": [...]}`` for a rejected batch (also for a body that is not JSON, with index null),
400 ``{"error": "query", ...}`` for a question, 400 ``{"error": "parameter" | "cursor", "param", "message"}`` for
other query parameters, ``{"detail": ...}`` for 401, 403, 404, 405, 409 and 413. No input answers 500.
Times are ISO 8601 in UTC with a ``Z``, to the microsecond.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from typing import Annotated, Any, Literal, Union

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel, ConfigDict, Field, create_model

from authmon import registry
from authmon.api_auth import failure_reason, ingest_auth, read_auth, request_tenant, token_actor
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
from authmon.api_io import (
    DATETIME_OUT,
    LIMIT_SCHEMA,
    aware,
    page_limit,
    parse_time,
    query_param,
    read_records,
    single_params,
    to_json,
    too_big_message,
)
from authmon.ingest import (
    IngestConflictError,
    IngestValidationError,
    input_fields,
    record_schema,
    records_ingest,
)
from authmon.models import Tenant
from authmon.paging import CursorError, paginate
from authmon.questions import question_interpret
from authmon.registry import LogKind
from authmon.security.ratelimit import RateLimited
from nlq import MAX_LENGTH, NLQError

logger = logging.getLogger(__name__)

REVOCATIONS_DEFAULT_WINDOW = dt.timedelta(hours=24)
RESERVED_PARAMS = ("q", "limit", "cursor")
_MAX_PK = 2**63 - 1
_REVOCATION_SALT = "console.api.revocations"

if not apps.ready:  # the routes are generated from the registry, which AppConfig.ready() fills
    raise RuntimeError("console.api was imported before the Django apps were ready.")

api = NinjaAPI(
    title="authmon API",
    version="1",
    urls_namespace="api",
    description=(__doc__ or "").split("\n\n", 1)[1].strip(),
)


# ----------------------------------------------------------------------------------------------------- errors


@api.exception_handler(ApiError)
def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return api.create_response(request, exc.payload, status=exc.status)


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(request, {"detail": failure_reason(request)}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="authmon"'
    return response


@api.exception_handler(RateLimited)
def _on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    detail = f"{exc} Retry in {exc.retry_after} seconds."
    response = api.create_response(request, {"detail": detail}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": too_big_message()}, status=413)


@api.exception_handler(NinjaValidationError)
def _on_invalid_params(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    messages = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors)
    return api.create_response(request, {"error": "parameter", "param": None, "message": messages}, status=400)


# ---------------------------------------------------------------------------------------------- output schemas


class IngestOut(BaseModel):
    created: int = Field(description="Records stored as new rows.")
    duplicates: int = Field(description="Records already stored (same external_id, or an upsert changing nothing).")
    updated: int = Field(description="Upserted sessions/grants whose stored row changed.")
    kept_revoked: int = Field(
        description="Records that reported a revoked session or grant as active or expired. Revoked is final: the "
        "row stays revoked, nothing of such a record is stored, and the batch leaves one audit record naming them."
    )


def _output_type(field: models.Field[Any, Any]) -> Any:
    if isinstance(field, models.JSONField):
        return Any
    if isinstance(field, models.DateTimeField):
        annotation: Any = DATETIME_OUT
    elif isinstance(field, models.BooleanField):
        annotation = bool
    elif isinstance(field, models.IntegerField):
        annotation = int
    else:
        annotation = str
    return annotation | None if field.null else annotation


def _record_out_schema(kind: LogKind) -> type[BaseModel]:
    definitions: dict[str, Any] = {"id": (int, ...), "tenant": (str, Field(description="The tenant's slug."))}
    for field in kind.data_fields:
        definitions[field.name] = (_output_type(field), ...)
    return create_model(
        f"{kind.model.__name__}Out", __config__=ConfigDict(title=f"{kind.model.__name__}Out"), **definitions
    )


def record_out(kind: LogKind, row: models.Model, tenant: Tenant) -> dict[str, Any]:
    """One stored record as the API shows it: every field, the tenant as its slug, times in UTC."""
    data: dict[str, Any] = {"id": row.pk, "tenant": tenant.slug}
    for field in kind.data_fields:
        data[field.name] = to_json(getattr(row, field.attname))
    return data


def _filterable(kind: LogKind) -> dict[str, models.Field[Any, Any]]:
    fields = {"id": kind.model._meta.pk}
    fields.update((f.name, f) for f in kind.data_fields)
    return fields


def _exact_filter(kind: LogKind, name: str, raw: str) -> tuple[Q, str]:
    """The condition for ``?name=raw`` and how to describe it; 400 for unknown fields or impossible values."""
    fields = _filterable(kind)
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


# ------------------------------------------------------------------------------------------------ the routes


def _openapi_type(field: models.Field[Any, Any]) -> dict[str, Any]:
    if field.choices:
        return {"type": "string", "enum": [str(value) for value, _ in field.flatchoices]}
    if isinstance(field, models.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, models.IntegerField):
        return {"type": "integer"}
    if isinstance(field, models.BooleanField):
        return {"type": "boolean"}
    return {"type": "string"}


def _list_parameters(kind: LogKind) -> list[dict[str, Any]]:
    question = "A question, e.g. 'failed logins from 203.0.113.7 in the last 7 days'."
    params = [
        query_param("q", {"type": "string", "maxLength": MAX_LENGTH}, question),
        query_param("limit", LIMIT_SCHEMA),
        query_param("cursor", {"type": "string"}, "next_cursor of the previous page."),
    ]
    for name, field in _filterable(kind).items():
        if not isinstance(field, models.JSONField):
            params.append(query_param(name, _openapi_type(field), f"Exact match on {name}."))
    return params


def _ingest_body(kind: LogKind) -> dict[str, Any]:
    item = record_schema(kind).model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": item, "maxItems": settings.API_MAX_RECORDS}},
                "application/x-ndjson": {"schema": {"type": "string", "description": "One record object per line."}},
            },
        }
    }


def _add_kind_routes(kind: LogKind) -> None:
    """Bind the generic handlers to one kind: ingest, list, detail and (for upserted kinds) lookup by key."""
    record_model = _record_out_schema(kind)
    list_model = create_model(
        f"{kind.model.__name__}Page",
        __config__=ConfigDict(title=f"{kind.model.__name__}Page"),
        results=(list[record_model], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, ...),
        interpretation=(str, ...),
    )
    sort = f"-{kind.time_field}"
    tags = [kind.name]
    base = f"/{kind.name}/"
    fields = [f.name for f in input_fields(kind)]
    after_ingest = kind.after_ingest

    @api.post(
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
        openapi_extra=_ingest_body(kind),
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

    @api.get(
        base,
        auth=read_auth,
        response={200: list_model, 400: QueryError | ParamError, 401: Detail, 403: Detail},
        operation_id=f"{kind.name}_list",
        url_name=f"{kind.name}_list",
        summary=f"List {kind.name} records",
        description=f"Newest first (by {kind.time_field}, then id). Any field is an exact filter.",
        tags=tags,
        openapi_extra={"parameters": _list_parameters(kind)},
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

    @api.get(
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
    api.get(
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


# ------------------------------------------------------------------------------------------------ revocations


def _revocable() -> list[LogKind]:
    kinds = [k for k in registry.kinds() if k.upsert_key and any(f.name == "revoked_at" for f in k.data_fields)]
    return sorted(kinds, key=lambda k: k.model_name)


def _revocation_fields(kind: LogKind) -> list[str]:
    names = {f.name for f in kind.data_fields}
    wanted = [kind.upsert_key or "", "session_id", "user_id", "email"]
    return [n for n in dict.fromkeys(wanted) if n in names]


def _revocation_schema() -> Any:
    variants = []
    for kind in _revocable():
        definitions: dict[str, Any] = {"type": (Literal[kind.model_name], ...), "id": (int, ...)}
        definitions.update((name, (str, ...)) for name in _revocation_fields(kind))
        definitions["revoked_at"] = (DATETIME_OUT, ...)
        title = f"{kind.model.__name__}Revocation"
        variants.append(create_model(title, __config__=ConfigDict(title=title), **definitions))
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Field(discriminator="type")]  # noqa: UP007


class RevocationPage(BaseModel):
    results: list[_revocation_schema()]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="Pass as cursor to continue exactly after the last result.")
    next_since: DATETIME_OUT = Field(
        description="revoked_at of the last result (or since when there is none): the since of the next poll. "
        "since is inclusive, so a poll may see the last revocation again."
    )


def _revocation_cursor(raw: str) -> tuple[dt.datetime, str, int]:
    try:
        data = signing.loads(raw, salt=_REVOCATION_SALT)
        when = dt.datetime.fromisoformat(data["t"])
        return when, str(data["k"]), int(data["i"])
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise cursor_error() from None


@api.get(
    "/revocations/",
    auth=read_auth,
    response={200: RevocationPage, 400: ParamError, 401: Detail, 403: Detail},
    operation_id="revocations",
    url_name="revocations",
    summary="Session and grant revocations",
    description=(
        "Revoked sessions and grants, oldest first by revoked_at, for the identity service to poll. since (ISO 8601, "
        "inclusive; a time without an offset is UTC) defaults to 24 hours ago. Poll with since=next_since, or follow "
        "next_cursor to walk a long list."
    ),
    tags=["revocations"],
    openapi_extra={
        "parameters": [
            query_param("since", {"type": "string", "format": "date-time"}),
            query_param("limit", LIMIT_SCHEMA),
            query_param("cursor", {"type": "string"}),
        ]
    },
)
def revocations(request: HttpRequest) -> Any:
    tenant = request_tenant(request)
    params = single_params(request)
    unknown = set(params) - {"since", "limit", "cursor"}
    if unknown:
        name = sorted(unknown)[0]
        raise param_error(name, f"Unknown parameter '{name}'. Use since, limit or cursor.")
    limit = page_limit(params.get("limit"))
    raw_since = params.get("since", "").strip()
    since = parse_time("since", raw_since) if raw_since else timezone.now() - REVOCATIONS_DEFAULT_WINDOW
    after = _revocation_cursor(params["cursor"]) if params.get("cursor", "").strip() else None

    found: list[tuple[dt.datetime, str, int, dict[str, Any]]] = []
    for kind in _revocable():
        type_name = kind.model_name
        queryset = kind.model.objects.for_tenant(tenant).filter(  # type: ignore[attr-defined]
            revoked_at__isnull=False, revoked_at__gte=since
        )
        if after is not None:
            when, after_type, after_id = after
            if type_name < after_type:
                queryset = queryset.filter(revoked_at__gt=when)
            elif type_name == after_type:
                queryset = queryset.filter(Q(revoked_at__gt=when) | Q(revoked_at=when, pk__gt=after_id))
            else:
                queryset = queryset.filter(revoked_at__gte=when)
        names = _revocation_fields(kind)
        for row in queryset.order_by("revoked_at", "pk")[: limit + 1]:
            item = {"type": type_name, "id": row.pk, **{n: getattr(row, n) for n in names}}
            item["revoked_at"] = to_json(row.revoked_at)
            found.append((row.revoked_at, type_name, row.pk, item))
    found.sort(key=lambda entry: entry[:3])
    page, more = found[:limit], len(found) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = signing.dumps({"t": last[0].isoformat(), "k": last[1], "i": last[2]}, salt=_REVOCATION_SALT)
    return {
        "results": [entry[3] for entry in page],
        "next_cursor": next_cursor,
        "next_since": to_json(page[-1][0] if page else since),
    }


# ---------------------------------------------------------------------------------------------------- bounces


class BounceOut(BaseModel):
    bounced: int = Field(description="Notifications now marked bounced.")
    already_bounced: int
    not_found: list[int] = Field(description="Indexes of the reports that matched no notification of this tenant.")


@api.post(
    "/notifications/bounces/",
    auth=ingest_auth,
    response={200: BounceOut, 400: BatchErrors, 401: Detail, 403: Detail, 413: Detail},
    operation_id="notifications_bounces",
    url_name="notifications_bounces",
    summary="Report bounced e-mails",
    description=(
        'A JSON array (or NDJSON) of {"id": n} or {"external_id": "..."} objects with an optional "reason": each '
        "notification becomes bounced, the reason appended to its body. For authmon's own mail the external_id is "
        "its Message-ID. Any invalid report rejects the whole request."
    ),
    tags=["notifications"],
)
def notification_bounces(request: HttpRequest) -> Any:
    from notifications.services import BounceValidationError, notifications_bounce

    try:
        result = notifications_bounce(tenant=request_tenant(request), items=read_records(request))
    except BounceValidationError as exc:
        raise batch_errors(exc.errors) from None
    return result.as_dict()


# ------------------------------------------------------------------------------------------------- not found


@api.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def not_found(request: HttpRequest, rest: str) -> Any:
    """A JSON 404 for any other path under /api/v1/ (and no POST-to-slash redirect from CommonMiddleware)."""
    known = ", ".join(k.name for k in registry.kinds())
    first = rest.strip("/").split("/", 1)[0]
    if not rest.endswith("/"):
        raise not_found_error(f"No such API path. API paths end with a slash: /api/v1/{rest}/")
    if first not in {k.name for k in registry.kinds()} and first != "revocations":
        raise not_found_error(f"Unknown record kind '{first}'. Kinds: {known}; also revocations.")
    raise not_found_error("No such API path or record.")

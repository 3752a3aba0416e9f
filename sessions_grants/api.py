"""The sessions and grants app's own API route (DESIGN section 6): ``GET /api/v1/revocations/``.

The identity service polls it for the sessions and grants revoked since its last poll, oldest first by
``revoked_at``. The feed walks the registry for every upserted kind with a ``revoked_at`` (today this app's
sessions and grants) and merges them into one list, ordered by (revoked_at, type, id) so that a signed cursor can
continue exactly after the last result across kinds. It reads and answers like the generated per-kind routes (the
framework's token auth, parameter readers and error shapes); the site mounts :data:`router` on its API.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from django.apps import apps
from django.core import signing
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field, create_model

from authmon import registry
from authmon.api_auth import read_auth, request_tenant
from authmon.api_errors import Detail, ParamError, cursor_error, param_error
from authmon.api_io import (
    DATETIME_OUT,
    LIMIT_SCHEMA,
    page_limit,
    parse_time,
    query_param,
    single_params,
    to_json,
)
from authmon.registry import LogKind

REVOCATIONS_DEFAULT_WINDOW = dt.timedelta(hours=24)
# The salt of the signed cursors: still the one the route had in console.api, so that cursors issued before the
# route moved here go on working.
_REVOCATION_SALT = "console.api.revocations"

if not apps.ready:  # the schema is built from the registry, which AppConfig.ready() fills
    raise RuntimeError("sessions_grants.api was imported before the Django apps were ready.")

router = Router()


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


@router.get(
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
    if "since" in params and not params["since"].strip():
        # The schema promises a date-time: an empty one is refused rather than read as "the last 24 hours", which
        # a poller whose saved next_since was lost would otherwise take for a complete answer.
        raise param_error("since", "since is empty: give an ISO 8601 date-time, or leave it out for the last 24 hours.")
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

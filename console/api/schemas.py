"""The schemas of the generated per-kind routes, and how a stored record is shown.

Each kind's record schema (``<Model>Out``) and page schema (``<Model>Page``) are built from its model's fields, as
are the OpenAPI query parameters of its list and the request body of its ingest, so that ``/api/v1/openapi.json``
documents every kind exactly and a new kind needs nothing here. :func:`record_out` is the one serialisation of a
record; the error bodies' schemas are the framework's (``authmon.api_errors``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from pydantic import BaseModel, ConfigDict, Field, create_model

from authmon.api_io import DATETIME_OUT, LIMIT_SCHEMA, query_param, to_json
from authmon.ingest import record_schema
from authmon.models import Tenant
from authmon.registry import LogKind
from nlq import MAX_LENGTH


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


def record_out_schema(kind: LogKind) -> type[BaseModel]:
    """``<Model>Out``: what :func:`record_out` gives for ``kind``."""
    definitions: dict[str, Any] = {"id": (int, ...), "tenant": (str, Field(description="The tenant's slug."))}
    for field in kind.data_fields:
        definitions[field.name] = (_output_type(field), ...)
    return create_model(
        f"{kind.model.__name__}Out", __config__=ConfigDict(title=f"{kind.model.__name__}Out"), **definitions
    )


def record_page_schema(kind: LogKind, record_model: type[BaseModel]) -> type[BaseModel]:
    """``<Model>Page``: one page of ``kind``'s list."""
    return create_model(
        f"{kind.model.__name__}Page",
        __config__=ConfigDict(title=f"{kind.model.__name__}Page"),
        results=(list[record_model], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, ...),
        interpretation=(str, ...),
    )


def record_out(kind: LogKind, row: models.Model, tenant: Tenant) -> dict[str, Any]:
    """One stored record as the API shows it: every field, the tenant as its slug, times in UTC."""
    data: dict[str, Any] = {"id": row.pk, "tenant": tenant.slug}
    for field in kind.data_fields:
        data[field.name] = to_json(getattr(row, field.attname))
    return data


def filterable(kind: LogKind) -> dict[str, models.Field[Any, Any]]:
    """The fields a list may name as exact filters (JSON fields among them, to be refused with a reason)."""
    fields = {"id": kind.model._meta.pk}
    fields.update((f.name, f) for f in kind.data_fields)
    return fields


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


def list_parameters(kind: LogKind) -> list[dict[str, Any]]:
    """The query parameters of ``kind``'s list as the OpenAPI document lists them."""
    question = "A question, e.g. 'failed logins from 203.0.113.7 in the last 7 days'."
    params = [
        query_param("q", {"type": "string", "maxLength": MAX_LENGTH}, question),
        query_param("limit", LIMIT_SCHEMA),
        query_param("cursor", {"type": "string"}, "next_cursor of the previous page."),
    ]
    for name, field in filterable(kind).items():
        if isinstance(field, models.JSONField):
            continue
        if field.null:  # ?name= (empty) asks for the records where the field is empty
            schema = {"anyOf": [_openapi_type(field), {"type": "string", "maxLength": 0}]}
            params.append(query_param(name, schema, f"Exact match on {name}; empty for the records without one."))
        else:
            params.append(query_param(name, _openapi_type(field), f"Exact match on {name}."))
    return params


def ingest_body(kind: LogKind) -> dict[str, Any]:
    """The request body of ``kind``'s ingest as the OpenAPI document describes it: an array of records or NDJSON."""
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

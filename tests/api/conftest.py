"""API test helpers: token-carrying clients for two tenants and a valid record of any kind, built from its schema."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import models
from django.test import Client

from authmon import registry
from authmon.ingest import input_fields
from authmon.models import ApiToken, Tenant
from authmon.registry import LogKind

KINDS = [k.name for k in registry.kinds()]
UPSERT_KINDS = [k.name for k in registry.kinds() if k.upsert_key]
BASE_TIME = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)


class ApiClient(Client):
    """A test client that sends a bearer token and speaks JSON."""

    def __init__(self, raw_token: str | None = None, **kwargs: Any) -> None:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"} if raw_token else {}
        super().__init__(**headers, **kwargs)

    def ingest(self, kind: str, records: Any, **kwargs: Any):
        body = records if isinstance(records, (str, bytes)) else json.dumps(records)
        kwargs.setdefault("content_type", "application/json")
        return self.post(f"/api/v1/{kind}/", data=body, **kwargs)

    def list(self, kind: str, /, **params: Any):
        return self.get(f"/api/v1/{kind}/", params)


def make_client(tenant: Tenant, scopes: list[str], **kwargs: Any) -> ApiClient:
    _token, raw = ApiToken.issue(tenant=tenant, scopes=scopes)
    return ApiClient(raw, **kwargs)


@pytest.fixture
def api_a(tenant_a) -> ApiClient:
    return make_client(tenant_a, ["ingest", "read"])


@pytest.fixture
def api_b(tenant_b) -> ApiClient:
    return make_client(tenant_b, ["ingest", "read"])


def record(kind: str | LogKind, n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid record of ``kind`` whose required fields are filled in; ``n`` makes text and times distinct."""
    kind = registry.get(kind) if isinstance(kind, str) else kind
    values: dict[str, Any] = {}
    for field in input_fields(kind):
        if field.name == "external_id" or field.null:
            continue
        if field.choices:
            values[field.name] = field.choices[0][0]
        elif isinstance(field, models.DateTimeField):
            values[field.name] = (BASE_TIME + dt.timedelta(minutes=n)).isoformat()
        elif isinstance(field, models.JSONField):
            values[field.name] = {"n": n}
        elif isinstance(field, (models.CharField, models.TextField)):
            values[field.name] = f"{field.name}-{n}"[: field.max_length or 100]
    values.update(overrides)
    return values


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    return record

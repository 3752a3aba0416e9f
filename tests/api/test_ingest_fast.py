"""The fast ingest path (one-call validation, COPY on PostgreSQL) stores and rejects exactly what the slow one does.

Each comparison runs the same batch through both paths: the slow one is forced by making the fast helpers decline
(``ingest_records._records_fast`` returning None validates record by record; ``ingest._copy_columns`` returning None
stores with ``bulk_create``), so a difference in any column value, count or error fails the test.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection

from authmon import ingest, ingest_records, registry
from authmon.ingest import IngestResult, IngestValidationError, records_ingest, records_validate
from tests.api.conftest import record
from tests.api.test_concurrency import run_together

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
TIMES = ["2026-11-19T10:00:00", "2026-11-19T10:00:00+02:00", "2026-11-19T23:59:59.123456-05:00"]


def varied(kind: str) -> list[dict[str, Any]]:
    """Records that exercise every conversion: masking, defaults, JSON shapes, IP forms, naive and offset times."""
    details = [
        {"password": "hunter2", "nested": {"client_secret": "s", "keep": [1, 2.5, None, True]}},
        {"token": JWT, "unicode": "Grüße \u2028 ✓", "big": 2**70, "float": 1e-7},
        [1, "two", {"three": 3}] if kind != "events" else {"list": [1, "two", {"three": 3}]},
        {},
    ]
    records = []
    for n in range(8):
        overrides: dict[str, Any] = {"external_id": f"{kind}-{n}"}
        time_field = registry.get(kind).time_field
        overrides[time_field] = [
            "2026-11-19T10:00:00",
            "2026-11-19T10:00:00+02:00",
            "2026-11-19T23:59:59.123456-05:00",
        ][n % 3]
        if kind == "events":
            overrides["details"] = details[n % 4]
            overrides["ip_address"] = ["10.0.0.1", "2001:0DB8:0:0::0001", "::ffff:192.0.2.7", None][n % 4]
        elif kind == "jobs":
            overrides["details"] = details[n % 4] if isinstance(details[n % 4], dict) else {"v": details[n % 4]}
            overrides["updated_at"] = "2026-11-20T00:00:00Z"
        records.append(record(kind, n, **overrides))
    # one record that leaves out everything optional (defaults), and one without an external_id
    records.append({k: v for k, v in record(kind, 9).items() if k != "details"} | {"external_id": f"{kind}-9"})
    records.append(record(kind, 10) | {registry.get(kind).time_field: "2026-11-19T00:00:00Z"})
    return records


def stored(kind: str, tenant) -> list[dict[str, Any]]:
    """Every column but id and tenant of the tenant's rows, in insertion order."""
    model = registry.get(kind).model
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in {"id", "tenant_id"}]
    return list(model.objects.filter(tenant=tenant).order_by("id").values(*names))


def slow_path(monkeypatch) -> None:
    monkeypatch.setattr(ingest_records, "_records_fast", lambda kind, records: None)
    monkeypatch.setattr(ingest, "_copy_columns", lambda model, db: None)


@pytest.mark.parametrize("kind", ["events", "notifications", "jobs"])
def test_the_fast_path_stores_exactly_what_bulk_create_stores(tenant_a, tenant_b, monkeypatch, kind):
    batch = varied(kind)
    assert records_ingest(kind=kind, tenant=tenant_a, records=batch) == IngestResult(created=len(batch))
    with monkeypatch.context() as patch:
        slow_path(patch)
        assert records_ingest(kind=kind, tenant=tenant_b, records=batch) == IngestResult(created=len(batch))
    fast, slow = stored(kind, tenant_a), stored(kind, tenant_b)
    assert fast == slow
    by_id = {row["external_id"]: row for row in fast}
    if kind != "notifications":
        assert by_id[f"{kind}-0"]["details"]["password"] == "***"
        assert by_id[f"{kind}-0"]["details"]["nested"]["client_secret"] == "***"
    time_field = registry.get(kind).time_field
    assert by_id[f"{kind}-0"][time_field] == dt.datetime(2026, 11, 19, 10, 0, tzinfo=dt.UTC)  # naive is UTC
    assert by_id[f"{kind}-1"][time_field] == dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)  # offsets convert
    assert by_id[None][time_field] == dt.datetime(2026, 11, 19, tzinfo=dt.UTC)


def test_ip_addresses_and_json_are_stored_as_django_stores_them(tenant_a):
    records_ingest(kind="events", tenant=tenant_a, records=varied("events"))
    rows = {row["external_id"]: row for row in stored("events", tenant_a)}
    assert [rows[f"events-{n}"]["ip_address"] for n in range(4)] == [
        "10.0.0.1",
        "2001:db8::1",
        "::ffff:192.0.2.7",
        None,
    ]
    assert rows["events-1"]["details"] == {"token": "***", "unicode": "Grüße \u2028 ✓", "big": 2**70, "float": 1e-7}
    assert rows["events-9"]["details"] == {}  # the model default
    assert rows["events-9"]["ip_address"] is None


def test_copy_is_used_only_where_it_stores_the_same(tenant_a):
    db = "default"
    on_postgres = connection.vendor == "postgresql"
    assert (ingest._copy_columns(registry.get("events").model, db) is not None) == on_postgres
    assert (ingest._copy_columns(registry.get("notifications").model, db) is not None) == on_postgres
    assert ingest._copy_columns(registry.get("audit").model, db) is None  # the hash chain is assigned on insert


@pytest.mark.parametrize("kind", ["events", "jobs", "audit", "sessions"])
def test_fast_validation_returns_what_the_record_by_record_path_returns(monkeypatch, kind):
    batch = [record(kind, n, external_id=f"v-{n}") for n in range(5)] + [record(kind, 5)]
    fast = records_validate(kind=registry.get(kind), records=batch)
    monkeypatch.setattr(ingest_records, "_records_fast", lambda kind, records: None)
    slow = records_validate(kind=registry.get(kind), records=batch)
    for a, b in zip(fast, slow, strict=True):
        time_defaults = {k for k in a.values if k not in a.sent and isinstance(a.values[k], dt.datetime)}
        assert {k: v for k, v in a.values.items() if k not in time_defaults} == {
            k: v for k, v in b.values.items() if k not in time_defaults
        }
        assert (a.index, a.sent) == (b.index, b.sent)


def test_a_bad_record_in_the_middle_rejects_the_batch_with_the_same_errors(tenant_a, monkeypatch):
    batch = [record("events", n, external_id=f"m-{n}") for n in range(1000)]
    batch[500]["ip_address"] = "300.1.2.3"
    batch[501]["ip_address"] = "010.1.2.3"  # leading zeros are refused, as Django refuses them
    batch[700]["emial"] = "x@example.com"
    batch[701]["details"] = {"x": "nul\u0000"}
    with pytest.raises(IngestValidationError) as fast:
        records_ingest(kind="events", tenant=tenant_a, records=batch)
    monkeypatch.setattr(ingest_records, "_records_fast", lambda kind, records: None)
    with pytest.raises(IngestValidationError) as slow:
        records_ingest(kind="events", tenant=tenant_a, records=batch)
    assert fast.value.errors == slow.value.errors
    assert [(e.index, e.field) for e in fast.value.errors] == [
        (500, "ip_address"),
        (501, "ip_address"),
        (700, "emial"),
        (701, "details"),
    ]
    assert fast.value.errors[0].message == "Enter a valid IPv4 or IPv6 address."
    assert registry.get("events").model.objects.count() == 0


def test_duplicates_within_and_across_batches_are_counted(tenant_a):
    first = [record("events", n, external_id=f"d-{n % 5}") for n in range(10)] + [record("events", 99)]
    assert records_ingest(kind="events", tenant=tenant_a, records=first) == IngestResult(created=6, duplicates=5)
    second = [record("events", n, external_id=f"d-{n}") for n in range(3, 8)] + [record("events", 99)]
    assert records_ingest(kind="events", tenant=tenant_a, records=second) == IngestResult(created=4, duplicates=2)
    model = registry.get("events").model
    assert model.objects.filter(tenant=tenant_a).count() == 10
    assert model.objects.filter(tenant=tenant_a, external_id__isnull=True).count() == 2


def test_large_integers_survive_the_api_parser(api_a):
    body = '[{"event_type": "login", "external_id": "big", "details": {"n": 123456789012345678901234567890}}]'
    assert api_a.ingest("events", body).status_code == 201
    stored_details = registry.get("events").model.objects.get().details
    assert stored_details == {"n": 123456789012345678901234567890}


def test_parser_fallbacks_keep_the_standard_errors(api_a):
    surrogate = api_a.ingest("events", '[{"event_type": "login", "user_agent": "\\ud800"}]')
    assert surrogate.status_code == 400
    assert "surrogate" in surrogate.json()["errors"][0]["message"]
    duplicate_keys = api_a.ingest("events", json.dumps([{"event_type": "login"}])[:-2] + ', "event_type": "logout"}]')
    assert duplicate_keys.status_code == 201  # the last value wins, as with the standard parser
    assert registry.get("events").model.objects.get().event_type == "logout"


pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers")


@pg_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["events", "notifications"])
def test_overlapping_concurrent_batches_store_each_key_once(tenant_a, kind):
    batches = [
        [record(kind, n, external_id=f"o-{n}") for n in range(0, 600)],
        [record(kind, n, external_id=f"o-{n}") for n in range(300, 900)],
        [record(kind, n, external_id=f"o-{n}") for n in reversed(range(0, 900))],
    ]
    results = run_together(tenant_a, kind, batches)
    assert sum(r.created for r in results) == 900
    assert sum(r.duplicates for r in results) == 1200
    assert registry.get(kind).model.objects.filter(tenant=tenant_a).count() == 900

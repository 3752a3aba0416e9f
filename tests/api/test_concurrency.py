"""Concurrent identical batches on PostgreSQL: no duplicates, no errors, counts that add up."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from authmon import registry
from authmon.ingest import IngestResult, records_ingest
from tests.api.conftest import record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"),
]


def run_together(tenant: Any, kind: str, batches: list[list[dict]]) -> list[IngestResult]:
    barrier = threading.Barrier(len(batches))
    results: list[Any] = [None] * len(batches)

    def worker(slot: int) -> None:
        try:
            barrier.wait()
            results[slot] = records_ingest(kind=kind, tenant=tenant, records=batches[slot])
        except Exception as exc:  # reported by the assertion below
            results[slot] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert isinstance(result, IngestResult), result
    return results


@pytest.mark.parametrize("round_", range(2))
def test_identical_batches_by_external_id(tenant_a, round_):
    batch = [record("events", n, external_id=f"c{round_}-{n}") for n in range(600)]
    results = run_together(tenant_a, "events", [batch, batch, list(reversed(batch))])
    assert sum(r.created for r in results) == 600
    assert sum(r.duplicates for r in results) == 1200
    assert registry.get("events").model.objects.filter(tenant=tenant_a).count() == 600


def test_identical_upserts_by_session_id(tenant_a):
    batch = [record("sessions", n, session_id=f"s-{n}") for n in range(600)]
    revoke = [{"session_id": f"s-{n}", "protocol": "OIDC", "status": "revoked"} for n in range(600)]
    results = run_together(tenant_a, "sessions", [batch, batch])
    assert sum(r.created for r in results) == 600
    assert sum(r.duplicates for r in results) == 600
    results = run_together(tenant_a, "sessions", [revoke, list(reversed(revoke))])
    assert sum(r.updated for r in results) == 600
    assert sum(r.duplicates for r in results) == 600
    sessions = registry.get("sessions").model.objects.filter(tenant=tenant_a)
    assert sessions.count() == 600
    assert sessions.filter(status="revoked", revoked_at__isnull=False).count() == 600

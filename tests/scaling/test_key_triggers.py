"""The external_id key table's join triggers probe its unique index, and ingest looks keys up there."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authmon import partitions, registry
from authmon.ingest import records_ingest
from tests.api.conftest import record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: partitioning is PostgreSQL-only"),
]

TABLES = ("events_eventlog", "notifications_notificationlog", "jobs_joblog")


@pytest.mark.parametrize("table", TABLES)
def test_delete_and_update_triggers_plan_without_hashing_the_key_table(table):
    keys = partitions.key_table_name(table)
    with connection.cursor() as cursor:
        for event in partitions.KEY_JOIN_EVENTS:
            cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = %s", [f"{keys}_{event}"])
            assert set(cursor.fetchone()[0]) == {"enable_hashjoin=off", "enable_mergejoin=off"}


def test_ingest_finds_known_external_ids_in_the_key_table(tenant_a):
    batch = [record("events", n, external_id=f"k-{n}") for n in range(3)]
    records_ingest(kind="events", tenant=tenant_a, records=batch)
    with CaptureQueriesContext(connection) as queries:
        again = records_ingest(kind="events", tenant=tenant_a, records=batch)
    assert (again.created, again.duplicates) == (0, 3)
    key_table = partitions.key_table_name(registry.get("events").model._meta.db_table)
    assert any(f'FROM "{key_table}"' in q["sql"] for q in queries.captured_queries)

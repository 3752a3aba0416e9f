"""Month partitions on PostgreSQL: layout, creation ahead, the external_id contract, retention by partition drop.

SQLite keeps plain tables; the tests at the end check that everything here is a harmless no-op there.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from authmon import partitions, registry
from authmon.ingest import records_ingest
from authmon.partitions import month_add, month_floor, partition_name
from authmon.trim import tenant_trim
from console.tasks import partitions_ensure_task
from jobs.models import JobLog
from tests import dbrole
from tests.api.conftest import record
from tests.samples import retain

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: partitions")
sqlite_only = pytest.mark.skipif(connection.vendor == "postgresql", reason="needs SQLite: checks the embedded mode")

EVENTS = "events_eventlog"
NOTIFICATIONS = "notifications_notificationlog"


def events():
    return registry.get("events").model


def where(pk: int) -> str:
    """The physical partition that holds event ``pk``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM events_eventlog WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def event(tenant, when: dt.datetime, external_id: str | None = None, **values):
    values = {"event_type": "login", "created_on": when, "external_id": external_id, **values}
    return events().objects.create(tenant=tenant, **values)


def test_month_arithmetic():
    assert month_floor(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))) == dt.datetime(
        2027, 1, 1, tzinfo=dt.UTC
    )
    assert month_add(dt.datetime(2026, 11, 1, tzinfo=dt.UTC), 3) == dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert month_add(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), -1) == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert partition_name(EVENTS, dt.datetime(2027, 2, 1, tzinfo=dt.UTC)) == "events_eventlog_p2027_02"


# ------------------------------------------------------------------------------------------------ PostgreSQL


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("table", [EVENTS, NOTIFICATIONS])
def test_tables_are_partitioned_by_month_with_a_default(table):
    column = {EVENTS: "created_on", NOTIFICATIONS: "timestamp"}[table]
    assert partitions.partitioned_tables()[table] == column
    found = partitions.partitions_list(table)
    assert found[-1].is_default
    # partitions_ensure (run by the migration, then daily) keeps this month and the three after it in place
    partitions.partitions_ensure()
    names = {p.name for p in partitions.partitions_list(table)}
    current = month_floor(timezone.now())
    assert {partition_name(table, month_add(current, n)) for n in range(4)} <= names


@postgres_only
@pytest.mark.django_db
def test_rows_land_in_their_month_and_the_orm_still_sees_one_table(tenant_a):
    now = timezone.now()
    row = event(tenant_a, now)
    assert where(row.pk) == partition_name(EVENTS, month_floor(now))
    assert events().objects.get(pk=row.pk).created_on == row.created_on
    row.email = "changed@example.com"
    row.save()
    assert events().objects.get(pk=row.pk).email == "changed@example.com"


@postgres_only
@pytest.mark.django_db
def test_ensure_creates_months_ahead_and_moves_stray_rows_out_of_the_default(tenant_a):
    now = timezone.now()
    old = event(tenant_a, now - dt.timedelta(days=200), external_id="old-1")
    assert where(old.pk) == f"{EVENTS}_default"
    report = partitions.partitions_ensure(now=now + dt.timedelta(days=190))
    month = month_floor(old.created_on)
    assert partition_name(EVENTS, month) in report.created
    assert report.moved_rows >= 1
    assert where(old.pk) == partition_name(EVENTS, month)
    assert partition_name(EVENTS, month_add(month_floor(now + dt.timedelta(days=190)), 3)) in report.created
    assert partitions.partitions_ensure(now=now + dt.timedelta(days=190)).created == []  # idempotent
    # the moved row kept its idempotency key
    result = records_ingest(kind="events", tenant=tenant_a, records=[record("events", 1, external_id="old-1")])
    assert (result.created, result.duplicates) == (0, 1)


@postgres_only
@pytest.mark.django_db
def test_external_id_stays_unique_per_tenant_across_months(tenant_a, tenant_b):
    now = timezone.now()
    event(tenant_a, now, external_id="k-1")
    event(tenant_b, now, external_id="k-1")  # another tenant may use the same key
    with pytest.raises(IntegrityError, match="events_eventlog_external_id_uniq"), transaction.atomic():
        event(tenant_a, now - dt.timedelta(days=400), external_id="k-1")  # another partition, same tenant and key
    batch = [record("events", n, external_id=f"k-{n}", created_on=f"20{10 + n}-03-01T00:00:00Z") for n in range(3)]
    result = records_ingest(kind="events", tenant=tenant_a, records=batch)
    assert (result.created, result.duplicates) == (2, 1)
    assert records_ingest(kind="events", tenant=tenant_a, records=batch).duplicates == 3


@postgres_only
@pytest.mark.django_db
def test_keys_follow_deletes_and_updates(tenant_a):
    now = timezone.now()
    row = event(tenant_a, now, external_id="d-1")
    events().objects.filter(pk=row.pk).delete()
    assert records_ingest(kind="events", tenant=tenant_a, records=[record("events", external_id="d-1")]).created == 1
    moved = event(tenant_a, now, external_id="u-1")
    events().objects.filter(pk=moved.pk).update(external_id="u-2", created_on=now - dt.timedelta(days=40))
    assert records_ingest(kind="events", tenant=tenant_a, records=[record("events", external_id="u-1")]).created == 1
    assert records_ingest(kind="events", tenant=tenant_a, records=[record("events", external_id="u-2")]).duplicates == 1
    events().objects.filter(pk=moved.pk).update(email="no key change")  # an update that leaves the key alone
    assert records_ingest(kind="events", tenant=tenant_a, records=[record("events", external_id="u-2")]).duplicates == 1


@postgres_only
@pytest.mark.django_db
def test_trim_drops_months_past_every_tenants_retention_then_deletes_in_batches(tenant_a, tenant_b):
    now = timezone.now()
    retain(tenant_a, events=30)
    retain(tenant_b, events=60)
    ancient = [event(t, now - dt.timedelta(days=100), external_id=f"a-{t.slug}") for t in (tenant_a, tenant_b)]
    a_edge = event(tenant_a, now - dt.timedelta(days=45))  # past a's 30 days, inside b's 60: a batched delete
    b_edge = event(tenant_b, now - dt.timedelta(days=45))
    a_young, b_young = event(tenant_a, now - dt.timedelta(days=1)), event(tenant_b, now - dt.timedelta(days=1))
    partitions.partitions_ensure(now=now)
    doomed = partition_name(EVENTS, month_floor(ancient[0].created_on))
    assert where(ancient[0].pk) == doomed

    report = tenant_trim(tenant=tenant_a, now=now)

    assert doomed in report.dropped["events"]
    assert report.deleted["events"] == 1  # a_edge: the only row of a's left past its retention
    assert "by batched deletes" in report.summary() and doomed in report.summary()
    assert doomed not in {p.name for p in partitions.partitions_list(EVENTS)}
    remaining = set(events().objects.values_list("pk", flat=True))
    assert remaining == {b_edge.pk, a_young.pk, b_young.pk}
    assert a_edge.pk not in remaining
    # the dropped month's idempotency keys went with it: the identity service may send those ids again
    again = records_ingest(kind="events", tenant=tenant_b, records=[record("events", external_id="a-globex")])
    assert again.created == 1
    assert tenant_trim(tenant=tenant_b, now=now).dropped == {}  # nothing left to drop


@postgres_only
@pytest.mark.django_db
def test_a_tenant_that_keeps_forever_prevents_partition_drops(tenant_a, tenant_b):
    now = timezone.now()
    retain(tenant_a, events=30)
    retain(tenant_b, events=0)
    old_a, old_b = event(tenant_a, now - dt.timedelta(days=100)), event(tenant_b, now - dt.timedelta(days=100))
    partitions.partitions_ensure(now=now)
    report = tenant_trim(tenant=tenant_a, now=now)
    assert report.dropped == {}
    assert report.deleted["events"] == 1
    assert list(events().objects.values_list("pk", flat=True)) == [old_b.pk]
    assert old_a.pk != old_b.pk


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_busy_table_defers_the_drop_instead_of_queueing_writers(tenant_a, monkeypatch):
    import psycopg

    now = timezone.now()
    retain(tenant_a, events=30)
    old = event(tenant_a, now - dt.timedelta(days=100), external_id="busy-1")
    partitions.partitions_ensure(now=now)
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    with psycopg.connect(**connection.get_connection_params()) as reader:  # a long export holding the table
        reader.execute("SELECT count(*) FROM events_eventlog")
        report = tenant_trim(tenant=tenant_a, now=now)
    # the old event's month is due, and so may be any empty month between it and the horizon (it depends on today)
    assert partition_name(EVENTS, month_floor(old.created_on)) in report.deferred["events"]
    assert "events" not in report.dropped
    assert "busy" in report.summary()
    assert report.deleted["events"] == 1  # the tenant's retention still applied, by batched delete
    assert not events().objects.filter(pk=old.pk).exists()
    assert partition_name(EVENTS, month_floor(old.created_on)) in {p.name for p in partitions.partitions_list(EVENTS)}
    assert tenant_trim(tenant=tenant_a, now=now).dropped["events"] == report.deferred["events"]  # the next run


@postgres_only
@pytest.mark.django_db
def test_partition_task_records_a_job_in_the_system_tenant(
    tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    settings.AUTHMON_SYSTEM_TENANT = tenant_b.slug
    with django_capture_on_commit_callbacks(execute=True):
        assert partitions_ensure_task.delay().get() is not None
    job = JobLog.objects.get(job_name="partition maintenance")
    assert job.tenant == tenant_b
    assert job.latest_status == "success", job.stacktrace
    assert "created" in job.details


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind,column,index",
    [
        ("events", "email", "events_email_trgm"),
        ("notifications", "subject", "notif_subject_trgm"),
        ("notifications", "recipient", "notif_recipient_trgm"),
    ],
)
def test_contains_searches_can_use_the_trigram_indexes(kind, column, index):
    model = registry.get(kind).model
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = model.objects.filter(**{f"{column}__icontains": "mallory"}).order_by().explain()
    # the index is on exactly the expression Django compiles icontains to, so the LIKE is an index condition
    assert f"Index Cond: (upper(({column})::text) ~~ '%MALLORY%'::text)" in plan


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_partitioning_migrations_reverse_and_reapply(tenant_a):
    now = timezone.now()
    keep = event(tenant_a, now - dt.timedelta(days=70), external_id="m-1")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: the database defences (authmon 0003) come back too
    executor.migrate([("events", "0001_initial")])
    assert EVENTS not in partitions.partitioned_tables()
    assert events().objects.get(external_id="m-1").pk == keep.pk
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    dbrole.grants_restore()
    assert EVENTS in partitions.partitioned_tables()
    assert where(keep.pk) == partition_name(EVENTS, month_floor(keep.created_on))
    assert records_ingest(kind="events", tenant=tenant_a, records=[record("events", external_id="m-1")]).duplicates == 1
    assert event(tenant_a, now).pk > keep.pk  # the id sequence carried on


# ---------------------------------------------------------------------------------------------------- SQLite


@sqlite_only
@pytest.mark.django_db
def test_embedded_mode_has_plain_tables_and_trims_by_deleting(tenant_a):
    assert partitions.partitioned_tables() == {}
    assert not partitions.is_partitioned(events())
    assert partitions.partitions_ensure().summary() == "All partitions in place."
    assert partitions_ensure_task.delay().get() is None
    retain(tenant_a, events=30)
    event(tenant_a, timezone.now() - dt.timedelta(days=100), external_id="s-1")
    report = tenant_trim(tenant=tenant_a)
    assert report.deleted["events"] == 1 and report.dropped == {}
    with pytest.raises(IntegrityError), transaction.atomic():
        event(tenant_a, timezone.now(), external_id="x")
        event(tenant_a, timezone.now(), external_id="x")

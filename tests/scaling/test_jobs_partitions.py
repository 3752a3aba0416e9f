"""Job logs partitioned by month on PostgreSQL: updates as jobs run, the external_id contract, and a trim that
never drops a month holding a job that is still pending or running."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from authmon import partitions
from authmon.partitions import month_add, month_floor, partition_name
from authmon.trim import tenant_trim
from jobs.models import JobLog, JobRun
from tests import dbrole
from tests.samples import retain

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: partitions")

JOBS = "jobs_joblog"


def where(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM jobs_joblog WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def job(tenant, when: dt.datetime, status: str = "success", external_id: str | None = None) -> JobLog:
    """A run of authmon (marked as such): only those are kept while pending or running; ingested ones are data."""
    row = JobLog.objects.create(
        tenant=tenant,
        job_id=f"j-{when:%Y%m%d%H%M%S%f}",
        job_name="nightly trim",
        job_type="trim",
        latest_status=status,
        created_at=when,
        updated_at=when,
        external_id=external_id,
    )
    JobRun.objects.create(tenant=tenant, job_pk=row.pk, job_created_at=when)
    return row


@pytest.mark.django_db
def test_jobs_table_is_partitioned_with_months_ahead():
    assert partitions.partitioned_tables()[JOBS] == "created_at"
    partitions.partitions_ensure()
    names = {p.name for p in partitions.partitions_list(JOBS)}
    current = month_floor(timezone.now())
    assert {partition_name(JOBS, month_add(current, n)) for n in range(4)} <= names
    assert f"{JOBS}_default" in names


@pytest.mark.django_db
def test_a_running_job_is_updated_in_place_in_its_month(tenant_a):
    now = timezone.now()
    row = job(tenant_a, now, status="pending")
    assert where(row.pk) == partition_name(JOBS, month_floor(now))
    JobLog.objects.filter(pk=row.pk).update(latest_status="running", message="50%", updated_at=now)
    row.refresh_from_db()
    row.latest_status, row.details = "success", {"deleted": {"events": 3}}
    row.save()
    stored = JobLog.objects.get(pk=row.pk)
    assert (stored.latest_status, stored.message, stored.details) == ("success", "50%", {"deleted": {"events": 3}})
    assert where(row.pk) == partition_name(JOBS, month_floor(now))
    with transaction.atomic():
        assert JobLog.objects.select_for_update().get(pk=row.pk).pk == row.pk


@pytest.mark.django_db
def test_external_id_stays_unique_per_tenant_across_months(tenant_a, tenant_b):
    now = timezone.now()
    job(tenant_a, now, external_id="x-1")
    job(tenant_b, now, external_id="x-1")
    with pytest.raises(IntegrityError, match="jobs_joblog_external_id_uniq"), transaction.atomic():
        job(tenant_a, now - dt.timedelta(days=70), external_id="x-1")


@pytest.mark.django_db
def test_trim_drops_job_months_but_keeps_one_with_a_pending_or_running_job(tenant_a, tenant_b):
    now = timezone.now()
    for tenant in (tenant_a, tenant_b):
        retain(tenant, jobs=30)
    done = job(tenant_a, now - dt.timedelta(days=200), external_id="done-1")
    stuck_month_done = job(tenant_b, now - dt.timedelta(days=120))
    stuck = job(tenant_b, now - dt.timedelta(days=120), status="running")
    young = job(tenant_a, now - dt.timedelta(days=1))
    partitions.partitions_ensure(now=now)
    done_month = partition_name(JOBS, month_floor(done.created_at))
    stuck_month = partition_name(JOBS, month_floor(stuck.created_at))
    assert where(stuck.pk) == stuck_month

    report = tenant_trim(tenant=tenant_b, now=now)

    assert done_month in report.dropped["jobs"]
    assert report.kept["jobs"] == [stuck_month]
    assert "pending or running jobs" in report.summary()
    names = {p.name for p in partitions.partitions_list(JOBS)}
    assert done_month not in names and stuck_month in names
    # the tenant's own finished job of that month still goes, by batched delete; the running one stays
    assert report.deleted["jobs"] == 1
    assert set(JobLog.objects.values_list("pk", flat=True)) == {stuck.pk, young.pk}
    assert stuck_month_done.pk not in set(JobLog.objects.values_list("pk", flat=True))
    # the dropped month's keys went with it
    job(tenant_a, now, external_id="done-1")

    JobLog.objects.filter(pk=stuck.pk).update(latest_status="failed")  # the watchdog gives up on it
    with connection.cursor() as cursor:  # in production that update commits; here its deferred FK check would
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # still be pending and block the DROP TABLE
    assert tenant_trim(tenant=tenant_b, now=now).dropped["jobs"] == [stuck_month]


@pytest.mark.django_db
def test_a_pending_job_arriving_during_the_drop_keeps_the_month_and_its_keys(tenant_a, monkeypatch):
    now = timezone.now()
    retain(tenant_a, jobs=30)
    old = job(tenant_a, now - dt.timedelta(days=200), external_id="late-1")
    partitions.partitions_ensure(now=now)
    month = next(p for p in partitions.partitions_list(JOBS) if p.name == where(old.pk))
    original_has_table = partitions._has_table
    looks = []

    def arrive_after_the_keys_went(cursor, name):  # a back-dated pending job lands between the two checks
        if name == month.name:
            looks.append(name)
            if len(looks) == 2:  # the look under the lock, after the month's keys were deleted
                job(tenant_a, old.created_at, status="pending")
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # committed, as it would be from another session
        return original_has_table(cursor, name)

    monkeypatch.setattr(partitions, "_has_table", arrive_after_the_keys_went)
    outcome = partitions.partition_drop(month, column="created_at", keep_where="latest_status IN ('pending')")
    assert outcome == "kept"
    assert len(looks) == 2
    assert where(old.pk) == month.name
    with pytest.raises(IntegrityError, match="jobs_joblog_external_id_uniq"), transaction.atomic():
        job(tenant_a, now, external_id="late-1")  # its key was put back


@pytest.mark.django_db(transaction=True)
def test_jobs_partitioning_reverses_and_reapplies(tenant_a):
    now = timezone.now()
    keep = job(tenant_a, now - dt.timedelta(days=70), external_id="m-1")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: the database defences (authmon 0003) come back too
    executor.migrate([("jobs", "0002_trigram_search")])
    assert JOBS not in partitions.partitioned_tables()
    assert JobLog.objects.get(external_id="m-1").pk == keep.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        job(tenant_a, now, external_id="m-1")
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    dbrole.grants_restore()
    assert JOBS in partitions.partitioned_tables()
    assert where(keep.pk) == partition_name(JOBS, month_floor(keep.created_at))
    assert job(tenant_a, now).pk > keep.pk

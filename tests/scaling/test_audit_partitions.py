"""The audit log partitioned by month on PostgreSQL: immutability on every partition, the chain position kept
unique by its key table, and a trim that drops a month only when it is an archived prefix of every chain in it."""

# ruff: noqa: S608 - the SQL names tables of this module and ids of records the tests made
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.chain import chain_verify
from audit.models import AuditChain, AuditLog
from authmon import partitions
from authmon.partitions import month_add, month_floor, partition_name
from authmon.trim import tenant_trim
from tests import dbrole
from tests.samples import retain

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: partitions")

AUDIT = "audit_auditlog"
REFUSED = (InternalError, ProgrammingError)  # SQLSTATE 42501 (insufficient_privilege) from the triggers


def where(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM audit_auditlog WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def where_month(row: AuditLog) -> str:
    return partition_name(AUDIT, month_floor(row.timestamp))


def record(tenant, when: dt.datetime, action: str = "user.update") -> AuditLog:
    return AuditLog.objects.create(tenant=tenant, action=action, target="alice", timestamp=when)


def refused(sql: str, match: str = "immutable") -> None:
    with pytest.raises(REFUSED, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def archives(settings, tmp_path):
    settings.AUTHMON_ARCHIVE_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_audit_table_is_partitioned_with_months_ahead_and_guarded_partitions():
    assert partitions.partitioned_tables()[AUDIT] == "timestamp"
    far = month_add(month_floor(timezone.now()), 6)
    report = partitions.partitions_ensure(now=far)  # creates months later than the migration did
    assert partition_name(AUDIT, far) in report.created
    names = {p.name for p in partitions.partitions_list(AUDIT)}
    current = month_floor(timezone.now())
    assert {partition_name(AUDIT, month_add(current, n)) for n in range(4)} <= names
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'audit_auditlog_no_truncate'"
        )
        guarded = {name for (name,) in cursor.fetchall()}
    assert names | {AUDIT} <= guarded


@pytest.mark.django_db
def test_update_delete_and_truncate_are_refused_on_the_parent_and_a_partition(tenant_a, as_app_role):
    """An UPDATE even to the owner (the triggers, cloned to every partition); DELETE and TRUNCATE to the app role,
    which has no such right on the parent and no right at all on a partition."""
    row = record(tenant_a, timezone.now())
    month = where(row.pk)
    assert month == partition_name(AUDIT, month_floor(row.timestamp))
    with connection.cursor() as cursor:  # committed in production; a pending FK check would block the TRUNCATE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in (AUDIT, month):
        refused(f"UPDATE {table} SET action = 'x' WHERE id = {row.pk}")
        for sql in (f"DELETE FROM {table} WHERE id = {row.pk}", f"TRUNCATE {table}"):
            with pytest.raises(REFUSED, match="permission denied"), as_app_role(tenant_a) as cursor:
                cursor.execute(sql)
    assert AuditLog.objects.get(pk=row.pk).action == "user.update"


@pytest.mark.django_db
def test_a_taken_chain_position_is_refused_whatever_the_time(tenant_a):
    row = record(tenant_a, timezone.now())
    copy = {f: getattr(row, f) for f in ("action", "target", "seq", "prev_hash", "hash")}
    with (
        pytest.raises(IntegrityError, match="audit_chain_position_uniq"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO audit_auditlog (tenant_id, action, target, actor, subject, client_actor, timestamp, "
            "diff, comments, seq, prev_hash, hash) VALUES (%s, %s, %s, '', '', '', %s, '{}', '', %s, %s, %s)",
            [
                tenant_a.pk,
                copy["action"],
                copy["target"],
                row.timestamp - dt.timedelta(days=70),
                copy["seq"],
                copy["prev_hash"],
                copy["hash"],
            ],
        )


@pytest.mark.django_db
def test_a_late_record_moves_out_of_the_default_partition(tenant_a):
    with connection.cursor() as cursor:  # a month without a partition yet, as after a restore of old records
        cursor.execute("SELECT %s::timestamptz", [timezone.now() - dt.timedelta(days=400)])
        old = cursor.fetchone()[0]
    assert partition_name(AUDIT, month_floor(old)) not in {p.name for p in partitions.partitions_list(AUDIT)}
    row = record(tenant_a, old)
    assert where(row.pk) == f"{AUDIT}_default"
    report = partitions.partitions_ensure()
    assert where(row.pk) == partition_name(AUDIT, month_floor(old)) and report.moved_rows == 1
    assert chain_verify(tenant=tenant_a).ok


@pytest.mark.django_db
def test_trim_drops_an_archived_month_and_moves_the_anchor(tenant_a, tenant_b, archives):
    now = timezone.now()
    for tenant in (tenant_a, tenant_b):
        retain(tenant, audit=30)
    old_a = [record(tenant_a, now - dt.timedelta(days=200, minutes=n)) for n in (3, 2, 1)]
    old_b = record(tenant_b, now - dt.timedelta(days=200))
    young = record(tenant_a, now - dt.timedelta(days=1))
    partitions.partitions_ensure(now=now)
    month = where(old_a[0].pk)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # committed in production; pending FK checks block DROP

    report = tenant_trim(tenant=tenant_a, now=now)

    assert report.dropped["audit"] == [month]
    assert month not in {p.name for p in partitions.partitions_list(AUDIT)}
    assert set(AuditLog.objects.values_list("pk", flat=True)) == {young.pk}
    head = AuditChain.objects.get(tenant=tenant_a)
    assert (head.anchor_seq, head.anchor_hash) == (old_a[-1].seq, old_a[-1].hash)
    for tenant in (tenant_a, tenant_b):
        assert chain_verify(tenant=tenant).ok
    assert AuditChain.objects.get(tenant=tenant_b).anchor_seq == old_b.seq
    archived = {}
    for path in archives.rglob("*.json"):
        data = json.loads(path.read_text())
        archived[data["header"]["tenant"]] = sorted(r["seq"] for r in data["records"])
    assert archived == {"acme": [r.seq for r in old_a], "globex": [old_b.seq]}
    # the month's chain positions went with it, the tenant's next record takes the next one
    assert record(tenant_a, now).seq == young.seq + 1


@pytest.mark.django_db
def test_a_month_holding_a_late_record_is_left_to_the_batched_purge(tenant_a, archives):
    now = timezone.now()
    retain(tenant_a, audit=30)
    first = record(tenant_a, now - dt.timedelta(days=200))
    younger = record(tenant_a, now - dt.timedelta(days=100))
    late = record(tenant_a, now - dt.timedelta(days=200, hours=1))  # follows a younger record in the chain
    partitions.partitions_ensure(now=now)
    month = where(late.pk)
    assert where(first.pk) == month
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # committed in production; pending FK checks block DROP

    report = tenant_trim(tenant=tenant_a, now=now)

    # the month of the younger record goes whole (everything before it in the chain is older); the anchor moves
    # past the first record, which stays at a trimmed position until the batched purge removes it with the late one
    assert report.kept["audit"] == [month]
    assert report.dropped["audit"] == [where_month(younger)]
    assert month in {p.name for p in partitions.partitions_list(AUDIT)}
    assert report.deleted["audit"] == 2
    assert not AuditLog.objects.filter(pk__in=[first.pk, younger.pk, late.pk]).exists()
    assert AuditChain.objects.get(tenant=tenant_a).anchor_seq == late.seq
    assert chain_verify(tenant=tenant_a).ok


@pytest.mark.django_db
def test_a_month_not_yet_a_prefix_is_kept_whole(tenant_a, archives):
    now = timezone.now()
    retain(tenant_a, audit=30)
    first = record(tenant_a, now - dt.timedelta(days=200))
    younger = record(tenant_a, now - dt.timedelta(days=1))
    late = record(tenant_a, now - dt.timedelta(days=200, hours=1))
    partitions.partitions_ensure(now=now)

    report = tenant_trim(tenant=tenant_a, now=now)

    assert report.kept["audit"] == [where(late.pk)]
    assert report.deleted["audit"] == 1  # the prefix: only the first record
    assert set(AuditLog.objects.values_list("pk", flat=True)) == {younger.pk, late.pk}
    assert AuditChain.objects.get(tenant=tenant_a).anchor_seq == first.seq
    assert chain_verify(tenant=tenant_a).ok


@pytest.mark.django_db(transaction=True)
def test_audit_partitioning_reverses_and_reapplies(tenant_a):
    now = timezone.now()
    keep = record(tenant_a, now - dt.timedelta(days=70))
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: the database defences (authmon 0003) come back too
    executor.migrate([("audit", "0007_tenant_index")])
    assert AUDIT not in partitions.partitioned_tables()
    assert AuditLog.objects.get(pk=keep.pk).seq == keep.seq
    refused(f"UPDATE {AUDIT} SET action = 'x' WHERE id = {keep.pk}")
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    dbrole.grants_restore()
    assert AUDIT in partitions.partitioned_tables()
    assert where(keep.pk) == partition_name(AUDIT, month_floor(keep.timestamp))
    assert record(tenant_a, now).pk > keep.pk
    assert chain_verify(tenant=tenant_a).ok
